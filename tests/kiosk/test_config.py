"""The device's TOML file: every error names the key, the value and what is valid."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from hymy.errors import ConfigError
from kiosk.config import (
    DEFAULT_PATH,
    DEV_DATA_DIR,
    EXAMPLE_PATH,
    DeviceConfig,
    load_config,
    parse_config,
    resolve_path,
)
from tests import procs


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "/etc/hymy/kiosk.toml")
    assert str(info.value).startswith("/etc/hymy/kiosk.toml: ")
    return info.value.problems


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"device": {"nmae": "x"}}, "device.nmae: unknown key; did you mean name? "
                                    "Valid keys in [device]: name, data_dir, clock, clock_sync_file, retention_days"),
        ({"sever": {}}, "sever: unknown table; did you mean [server]? "
                        "Valid tables: device, server, pins, display, maintenance"),
        ({"source": "/tmp/x"}, "source: unknown key. Valid tables: device, server, pins, display, maintenance"),
        ({"pins": {"button": [5]}}, "pins.button: unknown key; did you mean buttons? Valid keys in [pins]: buttons, leds,"),
        ({"buttons": [5, 6, 13, 19]}, "buttons: unknown key; did you mean [pins] buttons? Write it below the [pins] header"),
        ({"device": {"url": "https://h.example"}}, "device.url: unknown key; did you mean [server] url?"),
        ({"server": {"url": "ftp://hymy.example"}},
         'server.url: "ftp://hymy.example" is not a server address; write it like "https://hymy.example.com"'),
        ({"server": {"url": "https://"}}, 'server.url: "https://" is not a server address'),
        ({"pins": {"buttons": [5, 6, 4, 4]}}, "pins.buttons[3]: 4 is used twice (also pins.buttons[2])"),
        ({"pins": {"buttons": [4, 6, 4, 19]}}, "pins.buttons[2]: 4 is used twice (also pins.buttons[0])"),
        ({"pins": {"buttons": [5, 6, 13], "leds": [17, 27, 6]}}, "pins.leds[2]: 6 is used twice (also pins.buttons[1])"),
        ({"pins": {"buttons": [5, 6, 28]}}, "pins.buttons[2]: 28 is not a usable BCM pin; use 2..27"),
        ({"pins": {"buttons": [1, 6, 13]}}, "pins.buttons[0]: 1 is not a usable BCM pin; use 2..27"),
        ({"pins": {"buttons": [5, 6, 13], "staff_alert": 0}}, "pins.staff_alert: 0 is not a usable BCM pin; use 2..27"),
        ({"pins": {"buttons": [2, 6, 13], "reserved": ["i2c"]}},
         "pins.buttons[0]: 2 is taken by I2C (pins 2, 3); choose another pin or remove 'i2c' from pins.reserved"),
        ({"pins": {"buttons": [5, 6, 10], "reserved": ["spi"]}}, "pins.buttons[2]: 10 is taken by SPI (pins 7, 8, 9, 10, 11)"),
        ({"pins": {"buttons": [5, 6, 13], "leds": [14, 27, 22], "reserved": ["uart"]}}, "pins.leds[0]: 14 is taken by UART"),
        ({"pins": {"reserved": ["usb"]}}, 'pins.reserved[0]: "usb" is not one of the choices; use "i2c", "spi" or "uart"'),
        ({"pins": {"buttons": [5, 6, 13], "leds": [17, 27]}}, "pins.leds: 2 LEDs for 3 buttons; give one LED per button or none"),
        ({"pins": {"buttons": [5, 6, 13], "colours": ["red"]}}, "pins.colours: 1 colours for 3 buttons"),
        ({"pins": {"buttons": [5, 6, 13, 19, 26, 20, 21]}},
         "pins.buttons: has 7 items, at most 5 are allowed; use a list of at most 5 BCM pin numbers, one per face"),
        ({"pins": {"buttons": 5}}, "pins.buttons: 5 is not a list; use a list of at most 5 BCM pin numbers"),
        ({"display": {"width": "wide"}}, 'display.width: "wide" is not a whole number; use a whole number from 240 to 7680'),
        ({"display": {"width": "800"}}, 'display.width: "800" is text, not a number (write 800 without quotes); '
                                        "use a whole number from 240 to 7680"),
        ({"display": {"rotation": 45}}, "display.rotation: 45 is not one of the choices; use 0, 90, 180 or 270"),
        ({"display": {"rotation": "90"}}, 'display.rotation: "90" is text, not a number (write 90 without quotes); '
                                        "use 0, 90, 180 or 270"),
        ({"pins": {"buttons": [5, 6, True]}}, "pins.buttons[2]: true is not a whole number; use a BCM pin number 2-27"),
        ({"pins": {"buttons": ["5"]}}, 'pins.buttons[0]: "5" is text, not a number (write 5 without quotes); '
                                       "use a BCM pin number 2-27"),
        ({"pins": {"buttons": ["GPIO5", 6, 13]}}, 'pins.buttons[0]: "GPIO5" is text, not a number (write 5 without '
                                                  "quotes); use a BCM pin number 2-27, without quotes (GPIO5 is written 5)"),
        ({"pins": {"staff_alert": "GPIO18"}}, 'pins.staff_alert: "GPIO18" is text, not a number (write 18 without quotes)'),
        ({"pins": {"pwm": "yes"}}, 'pins.pwm: "yes" is not true or false; use true or false'),
        ({"device": {"retention_days": 0}}, "device.retention_days: 0 is too small; use a whole number from 1 to 3650"),
        ({"device": {"clock": "ntp"}}, 'device.clock: "ntp" is not one of the choices; use "kernel", "trust" or "timesyncd"'),
        ({"device": {"name": ""}}, 'device.name: "" is not valid; use text in "double quotes", 1-100 characters'),
        ({"device": {"data_dir": 5}}, 'device.data_dir: 5 is not a path; use a path in "double quotes"'),
        ({"pins": {"bounce_ms": 500}}, "pins.bounce_ms: 500 is too large; use a whole number from 1 to 200"),
        ({"display": {"width": {"px": 800}}}, "display.width: is a table, not a value; use a whole number from 240 to 7680"),
        ({"device": "kiosk"}, 'device: "kiosk" is not a table; use a table: a [header] line with its keys below it'),
    ],
)
def test_config_error_names_key_value_and_what_is_valid(data, expected):
    found = problems(data)
    assert any(p.startswith(expected) for p in found), found
    for raw in ("input should", "after validation", "valid integer", "Value error", "dictionary"):
        assert all(raw not in p for p in found), found  # no library wording reaches the technician


def test_config_error_never_shows_the_enrolment_code():
    found = problems({"server": {"enrolment_code": "ab cd ef"}})
    assert found == ["server.enrolment_code: the value is not valid; use the 6-64 character code printed by "
                     '`hymy admin add-device`, in "double quotes", no spaces'], found


# One file per message class, read with the real loader: file, line, key, what is wrong, what is valid.
FILE_CASES = [
    ("syntax error", '[device]\nname = "kiosk\nclock = "trust"\n',
     "line 2: device.name: TOML syntax error: a text value is not closed: end it with the quote it starts with"),
    ("value without quotes", "[device]\nname = kassa 2\n",
     'line 2: device.name: TOML syntax error: the value is missing or not valid: write text in "double quotes"'),
    ("list not closed", "[pins]\nbuttons = [5, 6, 13\n\n[display]\nrotation = 90\n",
     "line 2: pins.buttons: TOML syntax error: a list is not closed: separate the items with commas and end it with ]"),
    ("table twice", '[device]\nname = "a"\n[display]\n[device]\nclock = "trust"\n',
     "line 4: device: TOML syntax error: the table [device] is written twice; keep one [device] header"),
    ("unknown key", '# kiosk\n[device]\nname = "k"\nnmae = "x"\n',
     "line 4: device.nmae: unknown key; did you mean name? Valid keys in [device]: name, data_dir, clock"),
    ("key outside its table", "buttons = [5, 6, 13, 19]\n",
     "line 1: buttons: unknown key; did you mean [pins] buttons? Write it below the [pins] header. "
     "Valid tables: device, server, pins, display, maintenance"),
    ("wrong type", '[display]\nrotation = 90\nwidth = "wide"\n',
     'line 3: display.width: "wide" is not a whole number; use a whole number from 240 to 7680 (no quotes)'),
    ("too many items", "[pins]\nbuttons = [5, 6, 13, 19, 26, 20, 21]\n",
     "line 2: pins.buttons: has 7 items, at most 5 are allowed; use a list of at most 5 BCM pin numbers, one per "
     "face, most negative first, e.g. [5, 6, 13, 19]"),
    ("pin given as GPIO5", '[pins]\nbuttons = ["GPIO5", 6, 13, 19]\n',
     'line 2: pins.buttons[0]: "GPIO5" is text, not a number (write 5 without quotes); use a BCM pin number 2-27'),
    ("out of range", '[device]\nname = "k"\nretention_days = 0\n',
     "line 3: device.retention_days: 0 is too small; use a whole number from 1 to 3650 (no quotes)"),
    ("not a choice", '[device]\nclock = "ntp"\n',
     'line 2: device.clock: "ntp" is not one of the choices; use "kernel", "trust" or "timesyncd"'),
    ("pin map", "[pins]\nleds = []\nbuttons = [5, 6, 4, 4]\n", "line 3: pins.buttons[3]: 4 is used twice"),
    ("dotted key", 'pins.buttons = [5, 6, 13]\npins.leds = [17, 27]\n',
     "line 2: pins.leds: 2 LEDs for 3 buttons; give one LED per button or none"),
    ("inline table", "pins = { buttons = [5, 6, 99] }\n", "line 1: pins.buttons[2]: 99 is not a usable BCM pin"),
]


@pytest.mark.parametrize("name,text,expected", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_config_file_error_names_file_line_key_and_what_is_valid(tmp_path, name, text, expected):
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: {expected}" or any(p.startswith(expected) for p in info.value.problems), \
        str(info.value)
    assert str(info.value).startswith(f"{path}: ")
    for raw in ("Illegal character", "input should", "after validation", "valid integer", "(at line"):
        assert raw not in str(info.value)


def test_config_file_problems_come_in_line_order_each_with_its_line(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[display]\nrotation = 45\n\n[device]\nclock = "ntp"\nnmae = "x"\n\n[pins]\nbuttons = [5, 5]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert [p.split(":")[0] for p in info.value.problems] == ["line 2", "line 5", "line 6", "line 9"]
    assert str(info.value).startswith(f"{path}: 4 problems:\n  - line 2: display.rotation: ")


def test_config_lists_every_problem_not_only_the_first():
    found = problems({"device": {"nmae": "x", "clock": "ntp"}, "server": {"url": "x"},
                      "pins": {"buttons": [5, 5, 40]}})
    assert len(found) == 5, found
    assert "5 problems:" in str(ConfigError(found, "f.toml"))


def test_valid_config_parses_with_defaults():
    cfg = parse_config({"server": {"url": "https://hymy.example/"}, "pins": {"buttons": [5, 6, 13, 19],
                        "leds": [17, 27, 22, 23], "staff_alert": 18, "reserved": ["i2c"]}})
    assert cfg.server.url == "https://hymy.example"
    assert cfg.store_path == Path("/var/lib/hymy/kiosk.db")
    assert cfg.token_path == Path("/var/lib/hymy/device-token")
    assert cfg.display.width == 800 and cfg.device.clock == "kernel"


def test_toml_syntax_error_names_the_file_line_and_key(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[device]\nname = "kiosk"\ndata_dir = \n')
    with pytest.raises(ConfigError, match=r"kiosk\.toml: line 3: device\.data_dir: TOML syntax error: the value is "
                                          r"missing or not valid"):
        load_config(path)


def test_explicit_missing_file_is_an_error_naming_it_and_the_example(tmp_path, monkeypatch):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file") as info:
        load_config(missing)
    # it points at the kiosk's own example, which exists, not at the provisioning file's
    assert f"copy the example {EXAMPLE_PATH} there" in str(info.value), str(info.value)
    assert EXAMPLE_PATH.is_file() and "hymy.toml.example" not in str(info.value)
    monkeypatch.setenv("HYMY_CONFIG", str(missing))
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_config()


def test_missing_default_file_gives_development_defaults(monkeypatch):
    monkeypatch.delenv("HYMY_CONFIG", raising=False)
    if DEFAULT_PATH.exists():
        pytest.skip(f"{DEFAULT_PATH} exists on this machine")
    cfg = load_config()
    assert cfg.data_dir == DEV_DATA_DIR and cfg.device.clock == "trust"
    with pytest.raises(ConfigError):
        load_config(missing_ok=False)


def test_config_path_order_argument_then_env_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv("HYMY_CONFIG", str(tmp_path / "env.toml"))
    assert resolve_path(tmp_path / "arg.toml") == tmp_path / "arg.toml"
    assert resolve_path() == tmp_path / "env.toml"
    monkeypatch.delenv("HYMY_CONFIG")
    assert resolve_path() == DEFAULT_PATH


def test_non_utf8_file_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_bytes(b'[device]\nname = "k\xe4\xe4"\n')
    with pytest.raises(ConfigError, match=r"kiosk\.toml: line 2: not UTF-8 text \(byte 0xE4\); save the file as UTF-8"):
        load_config(path)


def test_loaded_config_remembers_its_file(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[device]\ndata_dir = "{tmp_path}"\n\n[pins]\nbuttons = [5, 6, 13, 19]\n')
    cfg = load_config(path)
    assert cfg.source == path and cfg.store_path == tmp_path / "kiosk.db"
    assert "source" not in cfg.model_dump()


def test_config_error_is_a_value_error_with_exit_code_2_from_the_cli(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[pins]\nbuttons = [4, 4]\n")
    assert issubclass(ConfigError, ValueError)
    done = procs.run([sys.executable, "-m", "hymy", "status", "--config", str(path)],
                     capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "pins.buttons[1]: 4 is used twice (also pins.buttons[0])" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_kiosk_looks_for_a_refused_provisioning_file_where_firstboot_writes_it(tmp_path):
    from deploy.provision import Provisioner

    written_by_firstboot = Provisioner(tmp_path).error_file
    cfg = parse_config({"device": {"data_dir": str(written_by_firstboot.parent)}})
    assert cfg.provision_error_path == written_by_firstboot


# --- kiosk.toml.example: the kiosk's own config, every key explained -------------------------------------


def _example_keys(text: str) -> dict[tuple[str, ...], int]:
    """Every key the example writes, including those commented out with an example value (``# url = ...``)."""
    from hymy.configfile.lines import statements

    uncommented = re.sub(r"(?m)^# (\w+ = )", r"\1", text)
    return {path: no for no, path in statements(uncommented)}


def test_example_loads_with_the_real_loader_and_sets_every_key_to_its_default():
    cfg = load_config(EXAMPLE_PATH)
    assert cfg.model_dump() == DeviceConfig().model_dump()


def test_example_documents_every_key_of_the_model():
    """Adding a key to kiosk.config without explaining it in the example fails here."""
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    written = _example_keys(text)
    lines = text.splitlines()
    for section, field in DeviceConfig.model_fields.items():
        assert (section,) in written, f"[{section}] is not in {EXAMPLE_PATH.name}"
        for key in field.annotation.model_fields:
            assert (section, key) in written, f"[{section}] {key} is not in {EXAMPLE_PATH.name}"
            # the comment above it (or above the group of keys that shares one) gives the default
            block = _comment_above(lines, written[(section, key)])
            assert any("Default:" in line for line in block), f"[{section}] {key}: no 'Default:' in {block}"


def _comment_above(lines: list[str], line_no: int) -> list[str]:
    i = line_no - 2  # the line above, 0-based
    while i >= 0 and lines[i].strip() and not lines[i].startswith("#"):
        i -= 1  # another key of the same group
    block = []
    while i >= 0 and lines[i].startswith("#"):
        block.insert(0, lines[i])
        i -= 1
    return block


def test_example_values_in_comments_are_valid_too(tmp_path):
    uncommented = re.sub(r"(?m)^# (\w+ = )", r"\1", EXAMPLE_PATH.read_text(encoding="utf-8"))
    path = tmp_path / "kiosk.toml"
    path.write_text(uncommented, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.server.url == "https://hymy.example.com" and cfg.pins.staff_alert == 18


def test_example_ships_inside_the_package():
    """``hymy`` names the example's path in its errors, so it must be installed with the code."""
    import fnmatch
    import tomllib

    from tests.conftest import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["*"]
    assert EXAMPLE_PATH.parent == ROOT / "kiosk"
    assert any(fnmatch.fnmatch(EXAMPLE_PATH.name, p) for p in patterns), patterns
