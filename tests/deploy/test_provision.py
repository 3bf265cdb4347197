"""hymy.provision: a real provisioning run in a temporary root (boot partition, /etc, /var/lib/hymy)."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from hymy.errors import ConfigError
from hymy.provision import Provisioner, key_line, parse, scrub_secrets
from tests import procs

ZONES = {"Europe/Helsinki", "Europe/Stockholm", "UTC"}

GOOD = """\
# Provisioning for the Kamppi exit kiosk
[server]
url = "https://hymy.example.com/"
enrolment_code = "K7Q2-M9XP-4R"
ca_bundle = "shop-ca.pem"

[device]
name = "Kamppi exit"
hostname = "hymy-kamppi-1"
timezone = "Europe/Helsinki"

[wifi]
ssid = "Kauppa WLAN"
password = "correct horse battery"
country = "fi"

[display]
rotation = 90
"""

PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "boot/firmware").mkdir(parents=True)
    (r / "etc").mkdir()
    (r / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    (r / "etc/hostname").write_text("raspberrypi\n")
    (r / "boot/firmware/cmdline.txt").write_text("console=tty1 root=PARTUUID=1234-02 rootwait quiet\n")
    (r / "boot/firmware/shop-ca.pem").write_text(PEM)
    return r


def provision(root: Path, text: str) -> tuple[Provisioner, list[list[str]]]:
    calls: list[list[str]] = []
    p = Provisioner(root, runner=lambda argv: calls.append(list(argv)), known_zones=ZONES)
    (root / "boot/firmware/hymy.toml").write_text(text)
    return p, calls


def test_provision_good_file_applies_everything(root: Path) -> None:
    p, calls = provision(root, GOOD)
    result = p.run()
    assert result.changed

    cfg = tomllib.loads((root / "etc/hymy/kiosk.toml").read_text())
    assert cfg["server"] == {"url": "https://hymy.example.com", "enrolment_code": "K7Q2-M9XP-4R",
                             "ca_bundle": "/etc/hymy/ca.pem"}
    assert cfg["device"]["name"] == "Kamppi exit"
    assert cfg["display"]["rotation"] == 90
    assert stat.S_IMODE((root / "etc/hymy/kiosk.toml").stat().st_mode) == 0o640
    # the written file is a valid device config
    from kiosk.config import load_config
    loaded = load_config(root / "etc/hymy/kiosk.toml")
    assert loaded.display.rotation == 90 and loaded.server.url == "https://hymy.example.com"

    assert (root / "etc/hymy/ca.pem").read_text() == PEM
    nm = root / "etc/NetworkManager/system-connections/hymy-wifi.nmconnection"
    assert stat.S_IMODE(nm.stat().st_mode) == 0o600
    nm_text = nm.read_text()
    assert "ssid=Kauppa WLAN" in nm_text and "psk=correct horse battery" in nm_text
    assert "key-mgmt=wpa-psk" in nm_text and "type=wifi" in nm_text

    assert (root / "etc/hostname").read_text() == "hymy-kamppi-1\n"
    hosts = (root / "etc/hosts").read_text()
    assert "127.0.1.1\thymy-kamppi-1" in hosts and "raspberrypi" not in hosts
    assert (root / "etc/localtime").is_symlink()
    assert str((root / "etc/localtime").readlink()) == "/usr/share/zoneinfo/Europe/Helsinki"
    assert (root / "etc/timezone").read_text() == "Europe/Helsinki\n"
    assert "cfg80211.ieee80211_regdom=FI" in (root / "boot/firmware/cmdline.txt").read_text()
    assert "rootwait" in (root / "boot/firmware/cmdline.txt").read_text()
    assert ["hostname", "hymy-kamppi-1"] in calls and ["iw", "reg", "set", "FI"] in calls
    assert not (root / "var/lib/hymy/provision-error.txt").exists()


def test_provision_scrubs_secrets_from_boot_partition(root: Path) -> None:
    p, _ = provision(root, GOOD)
    p.run()
    boot = root / "boot/firmware"
    assert not (boot / "hymy.toml").exists(), "applied once: the file is renamed"
    applied = (boot / "hymy.toml.applied").read_text()
    assert "correct horse battery" not in applied
    assert "K7Q2-M9XP-4R" not in applied
    assert "# wifi.password removed by hymy firstboot" in applied
    assert "# server.enrolment_code removed by hymy firstboot" in applied
    # everything else the technician wrote is kept
    data = tomllib.loads(applied)
    assert data["wifi"] == {"ssid": "Kauppa WLAN", "country": "fi"}
    assert data["server"]["url"] == "https://hymy.example.com/"
    assert "# Provisioning for the Kamppi exit kiosk" in applied
    # nothing else on the boot partition holds a secret
    for f in boot.iterdir():
        assert "correct horse battery" not in f.read_text(errors="replace"), f


def test_scrub_secrets_handles_dotted_keys() -> None:
    text = 'wifi.password = "hunter2hunter2"\nserver.enrolment_code = "ABCDEF"\nwifi.ssid = "x"\n'
    out = scrub_secrets(text)
    assert "hunter2" not in out and "ABCDEF" not in out and 'wifi.ssid = "x"' in out


def test_provision_second_file_keeps_device_settings_and_needs_no_url(root: Path) -> None:
    p, _ = provision(root, GOOD)
    p.run()
    kiosk = root / "etc/hymy/kiosk.toml"
    kiosk.write_text(kiosk.read_text() + "\n[pins]\nbuttons = [5, 6, 13, 19]\n")
    p2, _ = provision(root, '[wifi]\nssid = "Uusi"\npassword = "another-pass-9"\ncountry = "SE"\n')
    p2.run()
    cfg = tomllib.loads(kiosk.read_text())
    assert cfg["pins"]["buttons"] == [5, 6, 13, 19]
    assert cfg["server"]["url"] == "https://hymy.example.com"
    nm = (root / "etc/NetworkManager/system-connections/hymy-wifi.nmconnection").read_text()
    assert "ssid=Uusi" in nm


def test_provision_open_network_has_no_security_section(root: Path) -> None:
    p, _ = provision(root, '[server]\nurl = "https://h.example"\n[wifi]\nssid = "Cafe"\ncountry = "FI"\nhidden = true\n')
    p.run()
    nm = (root / "etc/NetworkManager/system-connections/hymy-wifi.nmconnection").read_text()
    assert "[wifi-security]" not in nm and "hidden=true" in nm


# --- bad files: nothing applied, the message names the line and key, shown for the kiosk screen -------

BAD_CASES = [
    # (name, file text, expected fragments of the message)
    ("toml syntax", '[server]\nurl = "https://h.example"\nname = "unterminated\n',
     ["line 3", "TOML syntax error"]),
    ("unknown table", '[server]\nurl = "https://h.example"\n\n[wlan]\nssid = "x"\n',
     ["line 4: wlan", "unknown table", "valid tables: server, device, wifi, display"]),
    ("unknown key", '[server]\nurl = "https://h.example"\n[device]\nname = "x"\nhost = "a"\n',
     ["line 5: device.host", "unknown key", "valid keys in [device]: name, hostname, timezone"]),
    ("bad url", '[server]\nurl = "hymy.example.com"\n',
     ["line 2: server.url", "'hymy.example.com' is not a server address", "https://"]),
    ("missing url", '[device]\nname = "x"\n', ["server.url: missing"]),
    ("short code", '[server]\nurl = "https://h.example"\nenrolment_code = "abc"\n',
     ["line 3: server.enrolment_code", "6-64 character"]),
    ("missing CA file", '[server]\nurl = "https://h.example"\nca_bundle = "nope.pem"\n',
     ["line 3: server.ca_bundle", "'nope.pem': no such file next to hymy.toml"]),
    ("bad hostname", '[server]\nurl = "https://h.example"\n[device]\nhostname = "Kassa_1"\n',
     ["line 4: device.hostname", "'Kassa_1'", "a-z, 0-9 and '-'"]),
    ("bad timezone", '[server]\nurl = "https://h.example"\n[device]\n\ntimezone = "Helsinki"\n',
     ["line 5: device.timezone", "'Helsinki' is not an IANA time zone", "Europe/Helsinki"]),
    ("short wifi password", '[server]\nurl = "https://h.example"\n[wifi]\nssid = "S"\npassword = "short"\ncountry = "FI"\n',
     ["line 5: wifi.password", "8-63 characters"]),
    ("missing wifi country", '[server]\nurl = "https://h.example"\n[wifi]\nssid = "S"\n',
     ["line 3: wifi.country", "missing", "two-letter country code"]),
    ("bad wifi country", '[server]\nurl = "https://h.example"\n[wifi]\nssid = "S"\ncountry = "Finland"\n',
     ["line 5: wifi.country", "'Finland' is not a two-letter country code"]),
    ("bad rotation", '[server]\nurl = "https://h.example"\n[display]\nrotation = 45\n',
     ["line 4: display.rotation", "45 is not valid; use 0, 90, 180 or 270"]),
    ("wrong type", '[server]\nurl = "https://h.example"\n[display]\nrotation = "90"\n',
     ["line 4: display.rotation", "'90' is not a whole number"]),
    ("table as value", 'server = "https://h.example"\n', ["line 1: server", "must be a table"]),
]


@pytest.mark.parametrize("name,text,fragments", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_provision_bad_file_is_refused_with_line_and_key(root: Path, name: str, text: str,
                                                         fragments: list[str]) -> None:
    # a last good configuration is in force
    good_cfg = '[server]\nurl = "https://old.example"\n[device]\nname = "old"\n'
    if name == "missing url":
        good_cfg = ""
    (root / "etc/hymy").mkdir()
    (root / "etc/hymy/kiosk.toml").write_text(good_cfg)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    p, calls = provision(root, text)
    with pytest.raises(ConfigError) as err:
        p.run()
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "hymy.toml" in message  # names the file

    # nothing applied: every file as it was, the boot file untouched, no commands run
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    error_file = root / "var/lib/hymy/provision-error.txt"
    assert set(after) - set(before) == {error_file, root / "boot/firmware/hymy.toml"}
    for path, data in before.items():
        assert after[path] == data, path
    assert calls == []
    shown = error_file.read_text()
    assert "last good configuration stays in force" in shown
    for fragment in fragments:
        assert fragment in shown


def test_provision_reports_every_problem_at_once(root: Path) -> None:
    text = '[server]\nurl = "ftp://x"\n[display]\nrotation = 45\n[device]\nhostname = "-x"\n'
    with pytest.raises(ConfigError) as err:
        parse(text, root, known_zones=ZONES)
    assert len(err.value.problems) == 3
    assert [pr.split(":")[0] for pr in err.value.problems] == ["line 2", "line 4", "line 6"]


def test_provision_good_file_after_bad_clears_the_error(root: Path) -> None:
    p, _ = provision(root, '[display]\nrotation = 1\n')
    with pytest.raises(ConfigError):
        p.run()
    assert (root / "var/lib/hymy/provision-error.txt").exists()
    p, _ = provision(root, GOOD)
    p.run()
    assert not (root / "var/lib/hymy/provision-error.txt").exists()


def test_provision_removes_used_enrolment_code_once_enrolled(root: Path) -> None:
    p, _ = provision(root, GOOD)
    p.run()
    kiosk = root / "etc/hymy/kiosk.toml"  # data dir: the default /var/lib/hymy, under the root
    # not enrolled yet: the code stays
    assert Provisioner(root, known_zones=ZONES).run().changed == []
    assert "enrolment_code" in kiosk.read_text()
    (root / "var/lib/hymy").mkdir(parents=True, exist_ok=True)
    (root / "var/lib/hymy/device-token").write_text("tok\n")
    assert Provisioner(root, known_zones=ZONES).run().changed
    assert "enrolment_code" not in kiosk.read_text()
    assert tomllib.loads(kiosk.read_text())["server"]["url"] == "https://hymy.example.com"


def test_key_line_finds_tables_keys_and_dotted_keys() -> None:
    text = '# c\n[server]\nurl = "x"\n\n[wifi]\n# pw\npassword = "p"\ndevice.name = "n"\n'
    assert key_line(text, "server") == 2
    assert key_line(text, "server.url") == 3
    assert key_line(text, "wifi.password") == 7
    assert key_line(text, "wifi.device.name") == 8
    assert key_line(text, "display.rotation") is None


def test_firstboot_command_exit_code_and_message(root: Path) -> None:
    import sys
    (root / "boot/firmware/hymy.toml").write_text('[display]\nrotation = 7\n')
    proc = procs.run([sys.executable, "-m", "hymy", "firstboot", "--root", str(root)],
                     capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "line 2: display.rotation" in proc.stderr


def test_example_file_is_valid_and_documents_every_key() -> None:
    from hymy.provision import SCHEMA
    from tests.conftest import ROOT
    text = (ROOT / "image/hymy.toml.example").read_text()
    p = parse(text, None, known_zones=ZONES)
    assert p.server_url == "https://hymy.example.com" and p.wifi_country == "FI"
    for table, keys in SCHEMA.items():
        assert f"[{table}]" in text
        for key in keys:
            assert key_line(text, f"{table}.{key}") or f"# {key} =" in text, f"{table}.{key} not documented"
