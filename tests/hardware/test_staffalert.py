"""hardware.staffalert: the lamp/buzzer output on MockFactory pins."""

from __future__ import annotations

import logging
import time
from contextlib import closing

import pytest
from gpiozero import Device

from hardware.staffalert import StaffAlert, open_staff_alert
from hymy.errors import ConfigError
from kiosk.config import parse_config

from .conftest import LAMP, wait_for


def test_staffalert_lamp_on_and_off_drive_the_pin(factory):
    with closing(StaffAlert(LAMP, pin_factory=factory)) as lamp:
        assert factory.pin(LAMP).state is False and not lamp.is_active
        lamp.on()
        assert factory.pin(LAMP).state is True and lamp.is_active
        lamp.off()
        assert factory.pin(LAMP).state is False and not lamp.is_active


def test_staffalert_blink_toggles_the_pin_until_off(factory):
    with closing(StaffAlert(LAMP, "lamp", pin_factory=factory)) as lamp:
        lamp.blink(0.02, 0.02)
        assert lamp.is_active
        pin = factory.pin(LAMP)
        assert wait_for(lambda: len(pin.states) >= 5)
        lamp.off()
        assert pin.state is False and not lamp.is_active
        n = len(pin.states)
        time.sleep(0.1)
        assert len(pin.states) == n  # stopped


def test_staffalert_buzzer_beeps(factory):
    with closing(StaffAlert(LAMP, "buzzer", pin_factory=factory)) as buzzer:
        buzzer.blink(0.02, 0.02)
        assert wait_for(lambda: len(factory.pin(LAMP).states) >= 4)
        buzzer.on()
        assert factory.pin(LAMP).state is True
    assert factory.pin(LAMP).state is False


def test_staffalert_unknown_kind_is_a_config_error(factory):
    with pytest.raises(ConfigError, match="pins.staff_alert_kind"):
        StaffAlert(LAMP, "siren", pin_factory=factory)


def test_open_staff_alert_is_none_without_a_pin(factory):
    assert open_staff_alert(parse_config({}), pin_factory=factory) is None


def test_open_staff_alert_opens_the_configured_kind(factory):
    config = parse_config({"pins": {"staff_alert": LAMP, "staff_alert_kind": "buzzer"}})
    with closing(open_staff_alert(config, pin_factory=factory)) as alert:
        assert alert.kind == "buzzer" and alert.pin == LAMP


def test_open_staff_alert_without_gpio_logs_one_line_and_is_none(monkeypatch, caplog):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    with caplog.at_level(logging.ERROR, logger="hardware"):
        assert open_staff_alert(parse_config({"pins": {"staff_alert": LAMP}})) is None
    assert len(caplog.records) == 1 and "keeps working" in caplog.records[0].getMessage()


def test_staffalert_drives_the_local_alert_monitor(factory, store, recorder, store_config, clock):
    """kiosk.staffalert.LocalAlertMonitor switches this lamp on for unhappy presses, offline."""
    from hymy.protocol import AlertRule
    from kiosk.staffalert import LocalAlertMonitor

    store_config.current = store_config.current.model_copy(update={
        "alert_rules": [AlertRule(id="neg", kind="negative_share", local=True)]})
    lamp = StaffAlert(LAMP, pin_factory=factory)
    monitor = LocalAlertMonitor(store, store_config, lamp, clock=clock)
    recorder.on_recorded = monitor.on_recorded
    try:
        for _ in range(6):
            clock.advance(seconds=10)
            recorder.record(1, "button")
        assert lamp.is_active and factory.pin(LAMP).state is True
    finally:
        monitor.stop()
        lamp.close()
