"""kiosk.staffalert: the staff lamp driven by the store's local rules, on a real store and mock pins.

The lamp is ``hardware.staffalert.StaffAlert`` when that module is present, otherwise gpiozero's own
LED (the same on/off/blink interface) on the same MockFactory pin: either way the pin state is real.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime

import pytest
from gpiozero.pins.mock import MockFactory

from hymy.protocol import AlertRule, default_store_config
from kiosk.capture import Recorder
from kiosk.staffalert import LocalAlertMonitor
from kiosk.store import Store
from tests.hardware import conftest as hw
from tests.hardware.conftest import StepClock

PIN = 17
factory = hw.factory  # the fixture: gpiozero's MockFactory pins, reset after each test


def make_lamp(factory: MockFactory):
    try:
        from hardware.staffalert import StaffAlert
    except ImportError:
        from gpiozero import LED

        return LED(PIN, pin_factory=factory)
    return StaffAlert(PIN, kind="lamp", pin_factory=factory)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails, as with the server unreachable."""

    def refuse(*args, **kwargs):
        raise OSError("network unreachable (test)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def config_with(*rules: AlertRule, hours=None):
    return default_store_config().model_copy(update={
        "alert_rules": list(rules), "opening_hours": hours or {}, "response_interval_s": 5.0,
        "timezone": "Europe/Helsinki",
    })


LOCAL = AlertRule(id="neg", kind="negative_share", local=True)  # >= 50 % unhappy, 15 min, >= 4


@pytest.fixture
def kiosk(tmp_path, factory):
    """A store, a recorder and a monitor wired as the kiosk app wires them."""
    clock = StepClock()
    store = Store(tmp_path / "hymy.db")
    cfg = {"value": config_with(LOCAL)}
    lamp = make_lamp(factory)
    changes: list[bool] = []
    monitor = LocalAlertMonitor(store, lambda: cfg["value"], lamp, clock=clock,
                                on_change=lambda active, evs: changes.append(active))
    recorder = Recorder(store, lambda: cfg["value"], clock, on_recorded=monitor.on_recorded)
    yield clock, store, cfg, lamp, monitor, recorder, changes
    monitor.stop()
    lamp.close()
    store.close()


def pin_on(factory) -> bool:
    return bool(factory.pin(PIN).state)


def press_all(recorder, clock, moods, every_s=10):
    for mood in moods:
        recorder.record(mood, "button")
        clock.advance(seconds=every_s)


def test_staffalert_lamp_goes_on_after_configured_presses_with_server_unreachable(kiosk, factory, no_network):
    clock, store, cfg, lamp, monitor, recorder, changes = kiosk
    press_all(recorder, clock, [4, 1, 3])
    assert not pin_on(factory) and not monitor.active  # 1 of 3: below min_count and share
    recorder.record(2, "button")  # 2 of 4 unhappy = 50 %
    assert pin_on(factory) and monitor.active and monitor.active_rules == ("neg",)
    assert changes == [True]
    assert "2 of 4 presses (50%) unhappy" in monitor.evaluations["neg"].describe()


def test_staffalert_lamp_goes_off_by_itself_when_the_presses_age_out(kiosk, factory, no_network):
    clock, store, cfg, lamp, monitor, recorder, changes = kiosk
    press_all(recorder, clock, [1, 1, 1, 1])
    assert pin_on(factory)
    clock.advance(minutes=14)
    monitor.tick()
    assert pin_on(factory)  # the first press is 14 min 40 s old: still in the 15 min window
    clock.advance(minutes=1)
    monitor.tick()  # no new press: the timer alone clears it
    assert not pin_on(factory) and not monitor.active
    assert changes == [True, False]


def test_staffalert_lamp_goes_off_when_happy_presses_arrive(kiosk, factory):
    clock, store, cfg, lamp, monitor, recorder, changes = kiosk
    press_all(recorder, clock, [1, 2, 1, 2])
    assert pin_on(factory)
    press_all(recorder, clock, [4, 4, 4])
    assert pin_on(factory)  # 4 of 7 still >= 50 %
    recorder.record(3, "button")  # 4 of 8 = 50 %
    assert pin_on(factory)
    clock.advance(seconds=10)
    recorder.record(4, "button")  # 4 of 9 < 50 %
    assert not pin_on(factory)


def test_staffalert_repeats_voids_and_closed_hours_do_not_count(kiosk, factory):
    clock, store, cfg, lamp, monitor, recorder, changes = kiosk
    press_all(recorder, clock, [1, 1], every_s=10)
    for _ in range(4):  # the first counts, the rest fall inside the 5 s response interval: repeat
        recorder.record(1, "button")
        clock.advance(seconds=1)
    assert not pin_on(factory) and monitor.evaluations["neg"].n == 3
    clock.advance(seconds=10)
    last = recorder.record(1, "button")
    assert pin_on(factory)
    recorder.void(last.id)  # the technician's maintenance gesture
    assert not pin_on(factory)

    cfg["value"] = config_with(LOCAL, hours={"mon": ["08:00-12:30"]})  # closes 12:30 local = 10:30 UTC
    clock.now = datetime(2026, 11, 23, 10, 31, tzinfo=UTC)
    press_all(recorder, clock, [1, 1, 1, 1, 1])  # all flagged closed
    assert not pin_on(factory) and monitor.evaluations["neg"].open is False


def test_staffalert_ignores_rules_not_marked_local_and_follows_config_changes(kiosk, factory):
    clock, store, cfg, lamp, monitor, recorder, changes = kiosk
    cfg["value"] = config_with(LOCAL.model_copy(update={"local": False}))
    press_all(recorder, clock, [1, 1, 1, 1])
    assert not pin_on(factory) and monitor.evaluations == {}
    cfg["value"] = config_with(LOCAL)
    monitor.tick()
    assert pin_on(factory)
    cfg["value"] = config_with()  # the rule was removed on the server: its episode ends
    monitor.tick()
    assert not pin_on(factory) and monitor.active_rules == ()


def test_staffalert_face_count_rule_and_several_rules(kiosk, factory):
    clock, store, cfg, lamp, monitor, recorder, changes = kiosk
    cfg["value"] = config_with(
        AlertRule(id="angry", kind="face_count", mood=1, threshold=2, min_count=2, window_min=5, local=True),
        AlertRule(id="low", kind="index_below", threshold=20, min_count=3, window_min=15, local=True),
    )
    press_all(recorder, clock, [1, 1], every_s=60)
    assert monitor.active_rules == ("angry",) and pin_on(factory)
    recorder.record(1, "button")
    assert set(monitor.active_rules) == {"angry", "low"}
    clock.advance(minutes=5)
    monitor.tick()  # the face-count window (5 min) has emptied, the index one (15 min) has not
    assert monitor.active_rules == ("low",) and pin_on(factory)
    clock.advance(minutes=15)
    monitor.tick()
    assert not pin_on(factory)


def test_staffalert_new_monitor_picks_up_presses_already_in_the_store(tmp_path, factory):
    clock = StepClock()
    cfg = config_with(LOCAL)
    with Store(tmp_path / "hymy.db") as store:
        rec = Recorder(store, lambda: cfg, clock)
        press_all(rec, clock, [1, 1, 1, 1])
    with Store(tmp_path / "hymy.db") as store:  # the kiosk restarted
        lamp = make_lamp(factory)
        monitor = LocalAlertMonitor(store, lambda: cfg, lamp, clock=clock)
        assert monitor.tick() and pin_on(factory)
        lamp.close()


def test_staffalert_timer_thread_clears_the_lamp_without_a_press(kiosk, factory):
    clock, store, cfg, lamp, monitor, recorder, changes = kiosk
    press_all(recorder, clock, [1, 1, 1, 1])
    assert pin_on(factory)
    monitor.start(interval_s=0.01)
    clock.advance(minutes=20)
    deadline = time.monotonic() + 5
    while pin_on(factory) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not pin_on(factory)
    assert threading.current_thread() is threading.main_thread()


def test_staffalert_blink_pattern_toggles_the_pin(tmp_path, factory):
    from gpiozero import LED

    clock = StepClock()
    cfg = config_with(LOCAL)
    with Store(tmp_path / "hymy.db") as store:
        led = LED(PIN, pin_factory=factory)
        monitor = LocalAlertMonitor(store, lambda: cfg, led, clock=clock, blink=(0.02, 0.02))
        rec = Recorder(store, lambda: cfg, clock, on_recorded=monitor.on_recorded)
        press_all(rec, clock, [1, 1, 1, 1])
        seen = set()
        deadline = time.monotonic() + 3
        while len(seen) < 2 and time.monotonic() < deadline:
            seen.add(bool(factory.pin(PIN).state))
            time.sleep(0.005)
        assert seen == {True, False}
        monitor.stop()
        assert not factory.pin(PIN).state
        led.close()


def test_staffalert_store_failure_is_logged_not_raised(kiosk, factory, caplog):
    clock, store, cfg, lamp, monitor, recorder, changes = kiosk
    press_all(recorder, clock, [1, 1, 1, 1])
    assert pin_on(factory)
    store.close()  # reading now fails
    assert monitor.tick() is True  # keeps the last state
    assert monitor.last_error and "staff alert evaluation failed" in caplog.text


def test_staffalert_without_a_lamp_still_reports_for_the_screen(tmp_path):
    clock = StepClock()
    cfg = config_with(LOCAL)
    with Store(tmp_path / "hymy.db") as store:
        monitor = LocalAlertMonitor(store, lambda: cfg, None, clock=clock)
        rec = Recorder(store, lambda: cfg, clock, on_recorded=monitor.on_recorded)
        press_all(rec, clock, [1, 2, 1, 1])
        assert monitor.active


def test_staffalert_buzzer_beeps_briefly_instead_of_sounding_all_along(tmp_path, factory):
    from hardware.staffalert import StaffAlert
    from kiosk.staffalert import BUZZER_BEEP

    clock = StepClock()
    cfg = config_with(LOCAL)
    with Store(tmp_path / "hymy.db") as store:
        buzzer = StaffAlert(PIN, kind="buzzer", pin_factory=factory)
        monitor = LocalAlertMonitor(store, lambda: cfg, buzzer, clock=clock)
        rec = Recorder(store, lambda: cfg, clock, on_recorded=monitor.on_recorded)
        press_all(rec, clock, [1, 1, 1, 1])
        assert buzzer.mode == "blink" and BUZZER_BEEP[0] < BUZZER_BEEP[1]
        clock.advance(minutes=20)
        monitor.tick()
        assert buzzer.mode == "off" and not factory.pin(PIN).state
        buzzer.close()


def test_staffalert_over_a_store_not_opened_yet_evaluates_quietly(tmp_path, factory, caplog):
    """Disk full at start-up (``open_store`` gave a stand-in): nothing is stored yet, so the local rules
    see no presses; the monitor neither fails nor logs an error every tick, and the lamp stays off."""
    from kiosk.store import DeferredStore

    store = DeferredStore(tmp_path / "kiosk.db", OSError("disk full (test)"), retry_s=3600)
    store._next_try = float("inf")  # the disk stays full for this test
    lamp = make_lamp(factory)
    monitor = LocalAlertMonitor(store, lambda: config_with(LOCAL), lamp, clock=StepClock())
    assert monitor.tick() is False
    assert monitor.last_error is None and "staff alert evaluation failed" not in caplog.text
    assert not factory.pin(PIN).state
    lamp.close()
