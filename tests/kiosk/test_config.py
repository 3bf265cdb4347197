"""The device's TOML file: every error names the key, the value and what is valid."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hymy.errors import ConfigError
from kiosk.config import DEFAULT_PATH, DEV_DATA_DIR, load_config, parse_config, resolve_path
from tests import procs


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "/etc/hymy/kiosk.toml")
    assert str(info.value).startswith("/etc/hymy/kiosk.toml: ")
    return info.value.problems


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"device": {"nmae": "x"}}, "device.nmae: unknown key; valid keys here: name, data_dir, clock, clock_sync_file, retention_days"),
        ({"sever": {}}, "sever: unknown key; valid keys here: device, server, pins, display, maintenance"),
        ({"source": "/tmp/x"}, "source: unknown key; valid keys here: device, server, pins, display, maintenance"),
        ({"pins": {"button": [5]}}, "pins.button: unknown key; valid keys here: buttons, leds,"),
        ({"server": {"url": "ftp://hymy.example"}}, "server.url: 'ftp://hymy.example': must start with https:// or http://"),
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
        ({"pins": {"reserved": ["usb"]}}, "pins.reserved[0]: 'usb': input should be 'i2c', 'spi' or 'uart'"),
        ({"pins": {"buttons": [5, 6, 13], "leds": [17, 27]}}, "pins.leds: 2 LEDs for 3 buttons; give one LED per button or none"),
        ({"pins": {"buttons": [5, 6, 13], "colours": ["red"]}}, "pins.colours: 1 colours for 3 buttons"),
        ({"display": {"width": "wide"}}, "display.width: 'wide': input should be a valid integer"),
        ({"display": {"rotation": 45}}, "display.rotation: 45: input should be 0, 90, 180 or 270"),
        ({"pins": {"buttons": [5, 6, True]}}, "pins.buttons[2]: True: input should be a valid integer"),
        ({"pins": {"buttons": ["5"]}}, "pins.buttons[0]: '5': input should be a valid integer"),
        ({"device": {"retention_days": 0}}, "device.retention_days: 0: input should be greater than or equal to 1"),
        ({"device": {"clock": "ntp"}}, "device.clock: 'ntp': input should be 'kernel', 'trust' or 'timesyncd'"),
        ({"pins": {"bounce_ms": 500}}, "pins.bounce_ms: 500: input should be less than or equal to 200"),
        ({"server": {"enrolment_code": "abc"}}, "server.enrolment_code: 'abc': string should have at least 6 characters"),
        ({"device": "kiosk"}, "device: 'kiosk': input should be a valid dictionary"),
    ],
)
def test_config_error_names_key_value_and_what_is_valid(data, expected):
    found = problems(data)
    assert any(p.startswith(expected) for p in found), found


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


def test_toml_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[device]\nname = "kiosk"\ndata_dir = \n')
    with pytest.raises(ConfigError, match=r"kiosk\.toml: TOML syntax error: .*line 3"):
        load_config(path)


def test_explicit_missing_file_is_an_error_naming_it(tmp_path, monkeypatch):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_config(missing)
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


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_bytes(b'[device]\nname = "k\xe4\xe4"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
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
    from hymy.provision import Provisioner

    written_by_firstboot = Provisioner(tmp_path).error_file
    cfg = parse_config({"device": {"data_dir": str(written_by_firstboot.parent)}})
    assert cfg.provision_error_path == written_by_firstboot
