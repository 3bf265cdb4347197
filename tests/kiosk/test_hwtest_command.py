"""``hymy hwtest`` (kiosk.cli): the device's pin map and the cached question's scale go to hardware.hwtest;
the store is never written. On gpiozero's MockFactory pins."""

from __future__ import annotations

from click.testing import CliRunner
from gpiozero import Device

from hymy.cli import cli
from hymy.protocol import Question, Texts, default_store_config
from kiosk.storeconfig import write_store_config

BUTTONS = [5, 6, 13, 19]
LEDS = [17, 27, 22, 23]
LAMP = 18


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
    assert "Press the green button (very happy)" in result.output


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
        assert store.all_ids() == before == []  # nothing recorded


def test_hwtest_fails_when_buttons_do_not_fit_the_cached_question(tmp_path):
    cfg = write_config(tmp_path, buttons=BUTTONS[:3])
    five = default_store_config().model_copy(update={
        "question": Question(id="q5", texts=Texts(fi="?", sv="?", en="?"), scale=5)})
    write_store_config(tmp_path / "data" / "store-config.json", five)
    result = CliRunner().invoke(cli, ["hwtest", "--auto", "--config", cfg])
    assert result.exit_code == 1
    assert "pins.buttons: 3 buttons for a question with 5 faces" in result.output
    assert "FAIL: 1 of 4 checks failed" in result.output


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
