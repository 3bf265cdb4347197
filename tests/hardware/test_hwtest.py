"""hardware.hwtest: the pass and fail paths on MockFactory pins, given a pin map and a scale; never the store.

The ``hymy hwtest`` command, which reads them from the device's config, is tested in tests/kiosk/test_hwtest_command.py.
"""

from __future__ import annotations

import pytest
from gpiozero import Device

from hardware.gpio import mock_press
from hardware.hwtest import AutoUI, ConsoleUI, check_hardware, format_table, passed, run_hwtest
from hardware.pins import PinsSection
from hymy.errors import HardwareError

from .conftest import BUTTONS, LAMP, LEDS


def pins(**kw):
    return PinsSection(**{"buttons": BUTTONS, "leds": LEDS, "staff_alert": LAMP, **kw})


def test_hwtest_flags_a_wrong_button(factory):
    swapped = {BUTTONS[1]: BUTTONS[2], BUTTONS[2]: BUTTONS[1]}
    ui = AutoUI(factory, echo=lambda _t: None, press_for=lambda i, pin: swapped.get(pin, pin))
    checks = run_hwtest(pins(), 4, ui, pin_factory=factory, timeout_s=2)
    failed = [c for c in checks if not c.ok]
    assert [c.pin for c in failed] == [BUTTONS[1], BUTTONS[2]]
    assert "blue button (happy) on GPIO13 answered instead" in failed[0].detail
    assert not passed(checks)


def test_hwtest_flags_a_button_that_never_comes(factory):
    ui = AutoUI(factory, echo=lambda _t: None, press_for=lambda i, pin: None if i == 3 else pin)
    checks = run_hwtest(pins(), 4, ui, pin_factory=factory, timeout_s=0.2)
    (failed,) = [c for c in checks if not c.ok]
    assert failed.pin == BUTTONS[3] and "no press within 0.2 s" in failed.detail and "GPIO19" in failed.detail
    table = format_table(checks)
    assert "GPIO19" in table and "FAIL: 1 of 9 checks failed" in table


def test_hwtest_flags_an_led_or_lamp_that_stays_dark(factory):
    dead = {LEDS[0], LAMP}
    ui = AutoUI(factory, echo=lambda _t: None, lit=lambda pin: pin not in dead and bool(factory.pin(pin).state))
    checks = run_hwtest(pins(), 4, ui, pin_factory=factory, timeout_s=2)
    assert sorted(c.pin for c in checks if not c.ok) == sorted(dead)
    assert "resistor" in next(c.detail for c in checks if c.pin == LEDS[0])


def test_hwtest_lights_the_led_while_asking_and_leaves_everything_off(factory):
    seen = {}

    def lit(pin):
        seen[pin] = bool(factory.pin(pin).state)
        return seen[pin]

    checks = run_hwtest(pins(), 4, AutoUI(factory, echo=lambda _t: None, lit=lit), pin_factory=factory)
    assert passed(checks) and all(seen.values()) and set(seen) == {*LEDS, LAMP}
    assert all(factory.pin(p).state is False for p in [*LEDS, LAMP])


def test_hwtest_console_ui_asks_by_colour_and_takes_the_technicians_answers(factory):
    """A technician at the terminal: reads the prompt, presses that button, answers the questions."""
    names = {"red": BUTTONS[0], "orange": BUTTONS[1], "blue": BUTTONS[2], "green": BUTTONS[3]}
    questions = []

    def echo(text: str) -> None:
        if text.startswith("Press the "):
            colour = text[len("Press the "):].split(" button")[0]
            mock_press(factory, names[colour])  # the technician presses it as the prompt shows

    def ask(question: str) -> bool:
        questions.append(question)
        return "green button" not in question  # that LED did not light

    checks = run_hwtest(pins(), 4, ConsoleUI(echo=echo, ask=ask), pin_factory=factory, timeout_s=2)
    assert [c.ok for c in checks] == [True] * 7 + [False, True]
    assert questions[-1] == "Is the staff lamp on?"


def test_hwtest_without_gpio_raises_a_plain_hardware_error(monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    with pytest.raises(HardwareError, match="cannot use GPIO: no GPIO library could be loaded"):
        run_hwtest(pins(), 4, ConsoleUI(echo=lambda _t: None))


def test_hwtest_with_nothing_configured_fails_interactively(factory):
    checks = check_hardware(PinsSection(), 4, pin_factory=factory, echo=lambda _t: None)
    assert not passed(checks) and "nothing to test" in checks[0].detail


def test_hwtest_auto_uses_its_own_mock_factory(tmp_path):
    checks = check_hardware(PinsSection(buttons=BUTTONS, leds=LEDS), 4, auto=True, echo=lambda _t: None)
    assert passed(checks) and len(checks) == 8
