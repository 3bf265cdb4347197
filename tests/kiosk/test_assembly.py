"""kiosk.assembly.KioskCore: the one kiosk assembly, with a real Store, gpiozero's mock pins and the
local staff alert; both kiosks (the Kivy app and the buttons-only one) are built on it."""

from __future__ import annotations

import logging
import os
import threading

import pytest
from gpiozero import Device

from hymy.errors import HardwareError, StoreUnavailable
from hymy.protocol import AlertRule, Question, Texts
from kiosk.assembly import KioskCore
from kiosk.config import parse_config
from kiosk.screenflow import QUESTION, ScreenFlow
from tests.hardware.conftest import BUTTONS, LAMP, LEDS, Config, StepClock, responses, wait_for

#: Opening hours that keep the store closed on Mondays (the step clock starts Monday 12:00 in Helsinki).
CLOSED_MONDAYS = {day: ["08:00-20:00"] for day in ("tue", "wed", "thu", "fri", "sat", "sun")}


def device(tmp_path, **pins):
    return parse_config({"device": {"data_dir": str(tmp_path / "data"), "clock": "trust"},
                         "pins": {"buttons": BUTTONS, "leds": LEDS, **pins}})


def scale(n: int) -> dict:
    return {"question": Question(id=f"q{n}", texts=Texts(fi="?", sv="?", en="?"), scale=n)}


@pytest.fixture
def core(tmp_path, factory):
    made = KioskCore(device(tmp_path, staff_alert=LAMP), store_config=Config(response_interval_s=0.0),
                     clock=StepClock(), pin_factory=factory)
    yield made
    made.close()


def press(factory, index: int) -> None:
    factory.pin(BUTTONS[index]).drive_low()
    factory.pin(BUTTONS[index]).drive_high()


def test_assembly_opens_nothing_until_first_used(tmp_path):
    cfg = device(tmp_path)
    core = KioskCore(cfg, gpio=False)
    try:
        assert not core.opened and not cfg.store_path.exists()
        assert core.store_config().question.scale == 4  # what a first frame needs is there at once
        response = core.record(3)  # a press before anything was opened opens it and is committed
        assert core.opened and cfg.store_path.exists()
        assert [(r["id"], r["mood"]) for r in responses(core.store)] == [(response.id, 3)]
    finally:
        core.close()


def test_assembly_button_press_is_committed_then_told(core, factory):
    told = []
    core.on_press = told.append
    core.open()
    assert core.open_panel() is core.panel is not None
    press(factory, 3)
    assert wait_for(lambda: told)
    assert [(r["id"], r["mood"], r["source"]) for r in responses(core.store)] == [(told[0].id, 4, "button")]


def test_assembly_close_releases_everything_and_is_idempotent(core, factory):
    core.open()
    core.open_panel()
    pipe = core.config.data_dir / "mockpress.fifo"
    assert pipe.exists()
    core.close()
    core.close()
    assert all(factory.pin(p).when_changed is None for p in BUTTONS)  # a new panel may claim the pins
    assert factory.pin(LAMP).state is False and not pipe.exists()
    with pytest.raises(StoreUnavailable, match="shutting down"):
        core.record(2)  # a late press must not open a second store


def test_assembly_closes_cleanly_when_gpio_failed_to_open(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    core = KioskCore(device(tmp_path, staff_alert=LAMP))
    with caplog.at_level(logging.ERROR):
        core.open()
        with pytest.raises(HardwareError, match="no GPIO library could be loaded"):
            core.open_panel()
    assert "staff lamp unavailable" in caplog.text
    core.record(1)  # recording works without any GPIO
    core.close()
    core.close()
    assert "closing" not in caplog.text


def test_assembly_late_press_after_close_is_refused_by_the_flow(tmp_path, caplog):
    core = KioskCore(device(tmp_path), gpio=False)
    flow = ScreenFlow(core, core.store_config, core.clock)
    flow.show_question()
    core.close()
    assert flow.press(4) is None and flow.screen == QUESTION
    assert "shutting down" in caplog.text
    assert not core.config.store_path.exists()


def test_assembly_sync_request_reaches_the_store_and_the_screen(core):
    told = []
    core.on_sync_requested = lambda: told.append(True)
    core.open()
    core.open_panel()
    core.panel.on_sync_now()  # what the buttons' 15 s hold calls
    assert core.store.get_meta("sync_requested_at") and told == [True]


def test_assembly_tick_remaps_the_panel_when_the_question_changes(core, factory, caplog):
    core.store_config.current = core.store_config.current.model_copy(update=scale(3))
    core.open()
    with caplog.at_level(logging.ERROR):
        assert core.open_panel() is None  # four buttons for three faces: nothing recorded
    assert "pins.buttons: 4 buttons for a question with 3 faces" in caplog.text
    press(factory, 0)
    core.tick()
    assert core.panel is None and responses(core.store) == []
    core.store_config.current = core.store_config.current.model_copy(update=scale(4))
    core.tick()
    assert core.panel is not None
    press(factory, 1)
    assert wait_for(lambda: [r["mood"] for r in responses(core.store)] == [2])
    core.store_config.current = core.store_config.current.model_copy(update=scale(5))
    core.tick()
    assert core.panel is None


def test_assembly_tick_darkens_the_leds_outside_opening_hours(tmp_path, pwm_factory):
    core = KioskCore(device(tmp_path, pwm=True), store_config=Config(), clock=StepClock(), pin_factory=pwm_factory)
    try:
        core.open()
        core.open_panel()
        assert wait_for(lambda: pwm_factory.pin(LEDS[0]).state > 0)  # breathing while open
        core.store_config.current = core.store_config.current.model_copy(update={"opening_hours": CLOSED_MONDAYS})
        core.tick()
        assert wait_for(lambda: all(pwm_factory.pin(p).state == 0 for p in LEDS))
    finally:
        core.close()


def test_assembly_press_pipe_presses_a_mock_button(core):
    core.open()
    core.open_panel()
    fd = os.open(core.config.data_dir / "mockpress.fifo", os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, b"2\n")
    finally:
        os.close(fd)
    assert wait_for(lambda: [(r["mood"], r["source"]) for r in responses(core.store)] == [(2, "button")])


def test_assembly_staff_alert_lights_the_lamp_and_tells_the_screen(core, factory):
    rule = AlertRule(id="unhappy", kind="negative_share", window_min=1, min_count=4, threshold=50, local=True)
    core.store_config.current = core.store_config.current.model_copy(update={"alert_rules": [rule]})
    told = []
    done = threading.Event()
    core.on_staff_alert = lambda active: (told.append(active), done.set())
    for mood in (1, 2, 1):
        core.record(mood)
    assert factory.pin(LAMP).state is False and told == []
    core.record(1)
    assert done.wait(5) and told == [True] and factory.pin(LAMP).state is True
    core.close()
    assert factory.pin(LAMP).state is False
