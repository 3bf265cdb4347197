"""hardware.panel: real gpiozero ButtonBoard/LEDBoard on MockFactory pins, recording into a real Store."""

from __future__ import annotations

import logging
import time

import pytest
from gpiozero import Device

from hardware import effects
from hardware.panel import SmileyPanel, open_panel
from hymy.errors import ConfigError, HardwareError
from hymy.protocol import Flag

from .conftest import BUTTONS, LEDS, device_config, responses, voids, wait_for


def press(factory, pin: int) -> None:
    factory.pin(pin).drive_low()
    factory.pin(pin).drive_high()


def make_panel(factory, recorder, scale=4, **kw):
    pins = device_config(**kw.pop("pins", {})).pins
    kw.setdefault("hours_check_s", None)
    return SmileyPanel(pins, recorder, scale, pin_factory=factory, **kw)


def led_states(factory) -> list[bool]:
    return [bool(factory.pin(p).state) for p in LEDS]


def test_panel_press_stores_exactly_one_button_response_with_the_mood(factory, recorder, store):
    seen = []
    with make_panel(factory, recorder, on_press=seen.append) as panel:
        press(factory, BUTTONS[2])
    rows = responses(store)
    assert len(rows) == 1
    assert rows[0]["mood"] == 3 and rows[0]["source"] == "button" and rows[0]["scale"] == 4
    assert [r.id for r in seen] == [rows[0]["id"]]
    assert panel.presses == 1


@pytest.mark.parametrize("index", range(4))
def test_panel_maps_buttons_most_negative_first(factory, recorder, store, clock, index):
    with make_panel(factory, recorder):
        press(factory, BUTTONS[index])
    assert [r["mood"] for r in responses(store)] == [index + 1]


def test_panel_on_press_runs_after_the_press_is_committed(factory, recorder, store):
    stored_when_called = []
    with make_panel(factory, recorder, on_press=lambda r: stored_when_called.append(store.get(r.id) is not None)):
        press(factory, BUTTONS[0])
    assert stored_when_called == [True]


class EdgeClock:
    """The panel's monotonic clock, advancing ``step`` seconds at each edge it is asked about."""

    def __init__(self, step: float):
        self.t = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def test_panel_bouncing_contacts_within_5ms_give_one_response(factory, recorder, store):
    pin = factory.pin(BUTTONS[3])
    edge_clock = EdgeClock(0.0005)  # 9 closing edges in 4.5 ms, whatever the machine's load
    with make_panel(factory, recorder, clock=edge_clock):
        for _ in range(4):  # closing chatter: low/high/low/high/... then stays low
            pin.drive_low()
            pin.drive_high()
        pin.drive_low()
        edge_clock.t += 0.2  # held
        for _ in range(3):  # opening chatter
            pin.drive_high()
            pin.drive_low()
        pin.drive_high()
    assert len(responses(store)) == 1


def test_panel_bouncing_at_real_speed_gives_one_response(factory, recorder, store):
    pin = factory.pin(BUTTONS[0])
    with make_panel(factory, recorder):
        for _ in range(5):
            pin.drive_low()
            pin.drive_high()
    assert len(responses(store)) == 1


def test_panel_two_real_presses_300ms_apart_give_two_responses(factory, recorder, store, clock):
    with make_panel(factory, recorder):
        press(factory, BUTTONS[1])
        time.sleep(0.3)
        clock.advance(seconds=10)
        press(factory, BUTTONS[1])
    rows = responses(store)
    assert len(rows) == 2
    assert all(r["flags"] == [] for r in rows)


def test_panel_presses_inside_the_interval_are_flagged_repeat(factory, recorder, store, clock):
    with make_panel(factory, recorder):
        press(factory, BUTTONS[3])
        time.sleep(0.05)
        clock.advance(seconds=1)  # inside the 5 s response interval
        press(factory, BUTTONS[0])
    assert [r["flags"] for r in responses(store)] == [[], ["repeat"]]


def test_panel_led_blinks_bright_after_a_counted_press_then_goes_dark(factory, recorder):
    with make_panel(factory, recorder) as panel:
        assert led_states(factory) == [False] * 4
        press(factory, BUTTONS[1])
        # on at once: the first frame is written in the press's own thread, right after the commit
        assert led_states(factory) == [False, True, False, False]
        assert panel.lights.current == "accept"
        assert wait_for(lambda: led_states(factory) == [False] * 4, timeout=2)
        on_for = factory.pin(LEDS[1]).states[2].timestamp  # how long the LED stayed on
        assert effects.ACCEPT_ON_S - 0.01 <= on_for < effects.ACCEPT_ON_S + 0.5  # late only under heavy load


def test_panel_repeat_press_blinks_twice_briefly_on_plain_leds(factory, recorder, clock):
    with make_panel(factory, recorder) as panel:
        press(factory, BUTTONS[0])
        assert wait_for(lambda: panel.lights.current == "dark")
        factory.pin(LEDS[2]).clear_states()
        time.sleep(0.03)
        press(factory, BUTTONS[2])  # same uptime: inside the interval
        assert panel.lights.current == "repeat"
        assert wait_for(lambda: panel.lights.current == "dark")
    states = [s.state for s in factory.pin(LEDS[2]).states]
    assert states[:5] == [False, True, False, True, False]
    on_times = [s.timestamp for s in factory.pin(LEDS[2]).states[2::2]]
    assert all(t < effects.ACCEPT_ON_S for t in on_times)  # shorter than a counted press's blink


def test_panel_pwm_repeat_is_a_dim_blink_and_a_counted_press_is_bright(pwm_factory, recorder):
    with make_panel(pwm_factory, recorder, pins={"pwm": True, "idle_pulse": False}) as panel:
        press(pwm_factory, BUTTONS[3])
        assert panel.lights.values() == (0.0, 0.0, 0.0, 1.0)
        assert wait_for(lambda: panel.lights.current == "dark")
        press(pwm_factory, BUTTONS[3])
        assert panel.lights.values() == (0.0, 0.0, 0.0, effects.REPEAT_LEVEL)
        assert pwm_factory.pin(LEDS[3]).state == pytest.approx(effects.REPEAT_LEVEL)


def test_panel_pwm_leds_pulse_softly_while_idle(pwm_factory, recorder):
    with make_panel(pwm_factory, recorder, pins={"pwm": True}) as panel:
        assert panel.lights.current == "pulse"
        seen = set()
        deadline = time.monotonic() + effects.PULSE_PERIOD_S / 3
        while time.monotonic() < deadline:
            seen.add(round(pwm_factory.pin(LEDS[0]).state, 3))
            time.sleep(0.02)
        assert len(seen) >= 5  # it breathes, not blinks
        assert max(seen) <= effects.PULSE_PEAK + 1e-6
        # a press interrupts the pulse and it comes back afterwards
        press(pwm_factory, BUTTONS[0])
        assert panel.lights.values()[0] == 1.0
        assert wait_for(lambda: panel.lights.current == "pulse", timeout=2)


def test_panel_outside_opening_hours_leds_are_off_and_presses_flagged_closed(pwm_factory, recorder, store,
                                                                            store_config):
    # Monday 12:00 local: open only in the evening
    store_config.current = store_config.current.model_copy(update={"opening_hours": {"mon": ["18:00-21:00"]}})
    with make_panel(pwm_factory, recorder, pins={"pwm": True}) as panel:
        assert not panel.is_open
        press(pwm_factory, BUTTONS[3])
        time.sleep(0.2)
        assert panel.lights.values() == (0.0,) * 4
        assert all(pwm_factory.pin(p).state == 0 for p in LEDS)
    assert responses(store)[0]["flags"] == ["closed"]


def test_panel_follows_opening_hours_on_its_own_timer(pwm_factory, recorder, store_config, clock):
    store_config.current = store_config.current.model_copy(update={"opening_hours": {"mon": ["08:00-13:00"]}})
    with make_panel(pwm_factory, recorder, pins={"pwm": True}, hours_check_s=0.02) as panel:
        assert panel.is_open and panel.lights.current == "pulse"
        clock.advance(hours=2)  # 14:00 local: closed
        assert wait_for(lambda: not panel.is_open)
        assert wait_for(lambda: panel.lights.values() == (0.0,) * 4)
        clock.advance(days=1, hours=-6)  # Tuesday 08:00: closed all day (no hours for tue)
        time.sleep(0.1)
        assert not panel.is_open


def test_panel_set_open_switches_the_idle_pulse(pwm_factory, recorder):
    with make_panel(pwm_factory, recorder, pins={"pwm": True}) as panel:
        panel.set_open(False)
        assert panel.lights.current == "dark" and panel.lights.values() == (0.0,) * 4
        panel.set_open(True)
        assert panel.lights.current == "pulse"


FAST = {"identify_hold_s": 0.3, "sync_hold_s": 0.6, "identify_linger_s": 0.3}


def test_panel_outer_buttons_held_enter_identify_void_the_two_presses_and_sync(factory, recorder, store, clock):
    events = []
    timing = {**FAST, "sync_hold_s": 2.5}
    with make_panel(factory, recorder, on_identify=events.append, **timing) as panel:
        press(factory, BUTTONS[1])  # an ordinary customer press first: stays counted
        clock.advance(seconds=30)
        factory.pin(BUTTONS[0]).drive_low()
        clock.advance(seconds=1)
        factory.pin(BUTTONS[3]).drive_low()
        assert len(responses(store)) == 3
        assert wait_for(lambda: events == [True], timeout=2)
        assert panel.identifying
        # LEDs chase: every LED takes a turn, one at a time
        lit = set()
        deadline = time.monotonic() + 6 * effects.CHASE_STEP_S
        while time.monotonic() < deadline:
            states = led_states(factory)
            assert sum(states) <= 1
            lit |= {i for i, s in enumerate(states) if s}
            time.sleep(0.01)
        assert lit == {0, 1, 2, 3}
        assert store.get_meta("sync_requested_at") is None
        assert wait_for(lambda: store.get_meta("sync_requested_at") is not None, timeout=2)
        assert panel.lights.current == "sync"  # every LED flashes once: heard you
        factory.pin(BUTTONS[0]).drive_high()
        factory.pin(BUTTONS[3]).drive_high()
        assert wait_for(lambda: not panel.identifying, timeout=2)
        assert events == [True, False]
        assert wait_for(lambda: led_states(factory) == [False] * 4)
    rows = responses(store)
    gesture_ids = {rows[1]["id"], rows[2]["id"]}
    assert {v["response_id"] for v in voids(store)} == gesture_ids
    assert all(v["value"] == Flag.maintenance.value for v in voids(store))
    counts, filtered, _ = store.counts_between(clock.start, clock.now + (clock.now - clock.start))
    assert counts == {2: 1} and filtered == 2  # kept, never counted


def test_panel_custom_sync_now_callback_replaces_the_store_request(factory, recorder, store):
    calls = []
    with make_panel(factory, recorder, on_sync_now=lambda: calls.append(1), **FAST):
        factory.pin(BUTTONS[0]).drive_low()
        factory.pin(BUTTONS[3]).drive_low()
        assert wait_for(lambda: calls == [1], timeout=2)
        factory.pin(BUTTONS[0]).drive_high()
        factory.pin(BUTTONS[3]).drive_high()
    assert store.get_meta("sync_requested_at") is None


def test_panel_letting_go_before_5s_is_no_gesture(factory, recorder, store):
    events = []
    with make_panel(factory, recorder, on_identify=events.append, **FAST) as panel:
        factory.pin(BUTTONS[0]).drive_low()
        factory.pin(BUTTONS[3]).drive_low()
        time.sleep(FAST["identify_hold_s"] / 3)
        factory.pin(BUTTONS[3]).drive_high()
        time.sleep(FAST["sync_hold_s"] + 0.1)
        assert not panel.identifying
        factory.pin(BUTTONS[0]).drive_high()
    assert events == [] and voids(store) == [] and store.get_meta("sync_requested_at") is None


def test_panel_single_long_hold_is_an_ordinary_press(factory, recorder, store):
    events = []
    with make_panel(factory, recorder, on_identify=events.append, **FAST) as panel:
        factory.pin(BUTTONS[0]).drive_low()
        time.sleep(FAST["sync_hold_s"] + 0.1)
        factory.pin(BUTTONS[0]).drive_high()
        assert not panel.identifying
    assert len(responses(store)) == 1 and voids(store) == [] and events == []


def test_panel_inner_buttons_held_together_are_no_gesture(factory, recorder, store):
    with make_panel(factory, recorder, **FAST) as panel:
        factory.pin(BUTTONS[1]).drive_low()
        factory.pin(BUTTONS[2]).drive_low()
        time.sleep(FAST["identify_hold_s"] + 0.1)
        assert not panel.identifying
    assert voids(store) == []


def test_panel_presses_during_identify_mode_are_voided(factory, recorder, store, clock):
    with make_panel(factory, recorder, **FAST) as panel:
        factory.pin(BUTTONS[0]).drive_low()
        factory.pin(BUTTONS[3]).drive_low()
        assert wait_for(lambda: panel.identifying, timeout=2)
        clock.advance(seconds=30)
        press(factory, BUTTONS[1])  # the technician pokes a middle button
    assert len(voids(store)) == 3


def test_panel_gesture_defaults_are_5_and_15_seconds(factory, recorder):
    with SmileyPanel(device_config().pins, recorder, 4, pin_factory=factory, hours_check_s=None) as panel:
        assert (panel.identify_hold_s, panel.sync_hold_s) == (5.0, 15.0)


def test_panel_fewer_buttons_than_faces_is_a_config_error_naming_pins_buttons(factory, recorder):
    with pytest.raises(ConfigError) as err:
        make_panel(factory, recorder, scale=5)
    assert "pins.buttons" in str(err.value) and "fewer buttons than faces" in str(err.value)
    assert factory.pin(BUTTONS[0]).function == "input"  # nothing claimed


def test_open_panel_names_the_config_file_when_buttons_do_not_fit(factory, recorder, tmp_path):
    from kiosk.config import parse_config

    cfg = parse_config({"pins": {"buttons": BUTTONS[:3]}}, tmp_path / "kiosk.toml")
    with pytest.raises(ConfigError) as err:
        open_panel(cfg, recorder, 4, pin_factory=factory)
    assert str(tmp_path / "kiosk.toml") in str(err.value) and "pins.buttons" in str(err.value)


def test_open_panel_without_buttons_is_none(factory, recorder):
    from kiosk.config import parse_config

    assert open_panel(parse_config({}), recorder, 4, pin_factory=factory) is None


def test_open_panel_with_no_pin_factory_raises_one_plain_error(recorder, monkeypatch, caplog):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    with caplog.at_level(logging.ERROR, logger="hardware"), pytest.raises(HardwareError) as err:
        open_panel(device_config(), recorder, 4)
    assert "GPIOZERO_PIN_FACTORY" in str(err.value)
    # what it means depends on the kiosk (screen or buttons only): the caller says it, not the panel
    assert "touchscreen" not in str(err.value) and caplog.records == []


def test_open_panel_when_a_pin_is_busy_raises_and_releases_what_it_claimed(factory, recorder):
    from gpiozero import LED

    squatter = LED(LEDS[0], pin_factory=factory)
    try:
        with pytest.raises(HardwareError) as err:
            open_panel(device_config(), recorder, 4, pin_factory=factory)
        assert "touchscreen" not in str(err.value)
        # the buttons claimed before the LED failed were released again
        assert factory.pin(BUTTONS[0]).when_changed is None
    finally:
        squatter.close()


def test_panel_callback_errors_never_lose_a_press(factory, recorder, store):
    def broken(_response):
        raise RuntimeError("screen gone")

    with make_panel(factory, recorder, on_press=broken) as panel:
        press(factory, BUTTONS[0])
        press(factory, BUTTONS[1])
        assert panel.presses == 2
    assert len(responses(store)) == 2


def test_panel_close_releases_pins_and_darkens_leds(factory, recorder):
    panel = make_panel(factory, recorder)
    press(factory, BUTTONS[0])
    panel.close()
    panel.close()  # idempotent
    assert led_states(factory) == [False] * 4
    # the pins are free again: a new panel can claim them
    make_panel(factory, recorder).close()


def test_panel_press_helper_drives_mock_pins_for_the_demo(factory, recorder, store):
    with make_panel(factory, recorder) as panel:
        panel.press(3)
    assert [r["mood"] for r in responses(store)] == [4]


def test_panel_refuses_presses_while_the_question_no_longer_fits(factory, recorder, store, store_config, caplog):
    from hymy.protocol import Question, Texts

    four = store_config.current
    with make_panel(factory, recorder) as panel:
        store_config.current = four.model_copy(update={
            "question": Question(id="q5", texts=Texts(fi="?", sv="?", en="?"), scale=5)})
        with caplog.at_level(logging.ERROR, logger="hardware"):
            press(factory, BUTTONS[3])
            time.sleep(0.03)
            press(factory, BUTTONS[3])
        assert responses(store) == []  # never stored with the wrong meaning
        assert len(caplog.records) == 1 and "pins.buttons: 4 buttons for a question with 5 faces" in caplog.text
        assert led_states(factory) == [False] * 4
        store_config.current = four
        time.sleep(0.03)
        press(factory, BUTTONS[3])
        assert panel.scale == 4
    assert [r["mood"] for r in responses(store)] == [4]


def test_open_panel_on_a_machine_without_gpio_says_so_in_one_sentence_without_warnings(recorder, monkeypatch,
                                                                                    caplog, recwarn):
    """No GPIOZERO_PIN_FACTORY: gpiozero tries every library; its fallback warnings become one sentence."""
    import warnings

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(Device, "pin_factory", None)
    warnings.simplefilter("always")
    with caplog.at_level(logging.INFO, logger="hardware"):
        try:
            panel = open_panel(device_config(), recorder, 4)
        except HardwareError as exc:
            message = str(exc)
        else:  # a machine with real GPIO: nothing to show here
            panel.close()
            pytest.skip(f"this machine has GPIO ({type(Device.pin_factory).__name__})")
    assert "lgpio" in message and "touchscreen" not in message
    assert caplog.records == []
    assert [str(w.message) for w in recwarn if "Falling back" in str(w.message)] == []
