"""hardware.hwtest and ``hymy hwtest``: the pass and fail paths on MockFactory pins; never the store."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from gpiozero import Device

from hardware.gpio import mock_press
from hardware.hwtest import AutoUI, ConsoleUI, format_table, passed, run_from_config, run_hwtest
from hymy.cli import cli
from hymy.errors import HardwareError
from hymy.protocol import Question, Texts, default_store_config
from kiosk.config import parse_config
from kiosk.storeconfig import write_store_config

from .conftest import BUTTONS, LAMP, LEDS, responses


def write_config(tmp_path, **pins) -> str:
    path = tmp_path / "kiosk.toml"
    lines = ["[device]", f'data_dir = "{tmp_path / "data"}"', "[pins]"]
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in pins.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_hwtest_auto_passes_on_the_example_pin_map_with_no_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["hwtest", "--auto", "--config", write_config(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "example pin map" in result.output
    assert "PASS: every part works" in result.output
    assert result.output.count("PASS") == 4 + 4 + 1 + 1  # buttons, LEDs, lamp, verdict
    assert "Press the dark green button (very happy)" in result.output


def test_hwtest_auto_tests_the_configured_pins_and_never_writes_the_store(tmp_path):
    from kiosk.store import Store

    cfg = write_config(tmp_path, buttons=BUTTONS[:3], leds=LEDS[:3], staff_alert=LAMP, colours=["red", "amber", "green"])
    data = tmp_path / "data"
    data.mkdir()
    with Store(data / "kiosk.db") as store:
        before = store.all_ids()
    files_before = sorted(p.name for p in data.iterdir())
    result = CliRunner().invoke(cli, ["hwtest", "--auto", "--config", cfg])
    assert result.exit_code == 0, result.output
    assert "Press the amber button (neutral) (GPIO6)" in result.output
    for pin in [*BUTTONS[:3], *LEDS[:3], LAMP]:
        assert f"GPIO{pin} " in result.output
    assert sorted(p.name for p in data.iterdir()) == files_before
    with Store(data / "kiosk.db") as store:
        assert store.all_ids() == before and responses(store) == []


def test_hwtest_fails_when_buttons_do_not_fit_the_cached_question(tmp_path):
    cfg = write_config(tmp_path, buttons=BUTTONS[:3])
    five = default_store_config().model_copy(update={
        "question": Question(id="q5", texts=Texts(fi="?", sv="?", en="?"), scale=5)})
    write_store_config(tmp_path / "data" / "store-config.json", five)
    result = CliRunner().invoke(cli, ["hwtest", "--auto", "--config", cfg])
    assert result.exit_code == 1
    assert "pins.buttons: 3 buttons for a question with 5 faces" in result.output
    assert "FAIL: 1 of 4 checks failed" in result.output


def pins(**kw):
    return parse_config({"pins": {"buttons": BUTTONS, "leds": LEDS, "staff_alert": LAMP, **kw}}).pins


def test_hwtest_flags_a_wrong_button(factory):
    swapped = {BUTTONS[1]: BUTTONS[2], BUTTONS[2]: BUTTONS[1]}
    ui = AutoUI(factory, echo=lambda _t: None, press_for=lambda i, pin: swapped.get(pin, pin))
    checks = run_hwtest(pins(), 4, ui, pin_factory=factory, timeout_s=2)
    failed = [c for c in checks if not c.ok]
    assert [c.pin for c in failed] == [BUTTONS[1], BUTTONS[2]]
    assert "light green button (happy) on GPIO13 answered instead" in failed[0].detail
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
    names = {"red": BUTTONS[0], "pink": BUTTONS[1], "light green": BUTTONS[2], "dark green": BUTTONS[3]}
    questions = []

    def echo(text: str) -> None:
        if text.startswith("Press the "):
            colour = text[len("Press the "):].split(" button")[0]
            mock_press(factory, names[colour])  # the technician presses it as the prompt shows

    def ask(question: str) -> bool:
        questions.append(question)
        return "dark green" not in question  # that LED did not light

    checks = run_hwtest(pins(), 4, ConsoleUI(echo=echo, ask=ask), pin_factory=factory, timeout_s=2)
    assert [c.ok for c in checks] == [True] * 7 + [False, True]
    assert questions[-1] == "Is the staff lamp on?"


def test_hwtest_without_gpio_raises_a_plain_hardware_error(monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    with pytest.raises(HardwareError, match="cannot use GPIO: no GPIO library could be loaded"):
        run_hwtest(pins(), 4, ConsoleUI(echo=lambda _t: None))


def test_hwtest_with_nothing_configured_fails_interactively(factory):
    checks = run_from_config(parse_config({}), pin_factory=factory, echo=lambda _t: None)
    assert not passed(checks) and "nothing to test" in checks[0].detail


def test_hwtest_auto_uses_its_own_mock_factory(tmp_path):
    checks = run_from_config(parse_config({"pins": {"buttons": BUTTONS, "leds": LEDS}}), auto=True,
                             echo=lambda _t: None)
    assert passed(checks) and len(checks) == 8


def test_hwtest_command_has_help():
    result = CliRunner().invoke(cli, ["hwtest", "--help"])
    assert result.exit_code == 0 and "--auto" in result.output and "pass/fail table" in result.output




def test_hwtest_command_without_gpio_says_why_and_exits_1(tmp_path, monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    cfg = write_config(tmp_path, buttons=BUTTONS)
    result = CliRunner().invoke(cli, ["hwtest", "--config", cfg])
    assert result.exit_code == 1
    assert "FAIL: cannot use GPIO: no GPIO library could be loaded" in result.output
