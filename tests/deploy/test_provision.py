"""deploy.provision: a real provisioning run in a temporary root (boot partition, /etc, /var/lib/hymy)."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import get_args

import pytest

from deploy.provision import Provisioner, scrub_secrets
from deploy.provisionfile import PLACEHOLDERS, ProvisioningFile, parse
from hymy.configfile.lines import key_lines
from hymy.errors import ConfigError
from tests import procs

ZONES = {"Europe/Helsinki", "Europe/Stockholm", "UTC"}

GOOD = """\
# Provisioning for the Kamppi exit kiosk
[server]
url = "https://hymy.kauppa.test/"
enrolment_code = "Q4WZ-8TNC-2H"
ca_bundle = "shop-ca.pem"

[device]
name = "Kamppi exit"
hostname = "hymy-kamppi-1"
timezone = "Europe/Helsinki"

[wifi]
ssid = "Kamppi WLAN"
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
    assert cfg["server"] == {"url": "https://hymy.kauppa.test", "enrolment_code": "Q4WZ-8TNC-2H",
                             "ca_bundle": "/etc/hymy/ca.pem"}
    assert cfg["device"]["name"] == "Kamppi exit"
    assert cfg["display"]["rotation"] == 90
    assert stat.S_IMODE((root / "etc/hymy/kiosk.toml").stat().st_mode) == 0o640
    # the written file is a valid device config
    from kiosk.config import load_config
    loaded = load_config(root / "etc/hymy/kiosk.toml")
    assert loaded.display.rotation == 90 and loaded.server.url == "https://hymy.kauppa.test"

    assert (root / "etc/hymy/ca.pem").read_text() == PEM
    nm = root / "etc/NetworkManager/system-connections/hymy-wifi.nmconnection"
    assert stat.S_IMODE(nm.stat().st_mode) == 0o600
    nm_text = nm.read_text()
    assert "ssid=Kamppi WLAN" in nm_text and "psk=correct horse battery" in nm_text
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
    assert "Q4WZ-8TNC-2H" not in applied
    assert "# wifi.password removed by hymy firstboot" in applied
    assert "# server.enrolment_code removed by hymy firstboot" in applied
    # everything else the technician wrote is kept
    data = tomllib.loads(applied)
    assert data["wifi"] == {"ssid": "Kamppi WLAN", "country": "fi"}
    assert data["server"]["url"] == "https://hymy.kauppa.test/"
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
    assert cfg["server"]["url"] == "https://hymy.kauppa.test"
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
     ["line 3: server.name: TOML syntax error: a text value is not closed"]),
    ("unknown table", '[server]\nurl = "https://h.example"\n\n[wlan]\nssid = "x"\n',
     ["line 4: wlan: unknown table. Valid tables: server, device, wifi, display"]),
    ("misspelt table", '[server]\nurl = "https://h.example"\n\n[wi-fi]\nssid = "x"\n',
     ["line 4: wi-fi: unknown table; did you mean [wifi]? Valid tables: server, device, wifi, display"]),
    ("unknown key", '[server]\nurl = "https://h.example"\n[device]\nname = "x"\nhost = "a"\n',
     ["line 5: device.host: unknown key; did you mean hostname? Valid keys in [device]: name, hostname, timezone"]),
    ("key outside its table", 'ssid = "Kassa"\n[server]\nurl = "https://h.example"\n',
     ["line 1: ssid: unknown key; did you mean [wifi] ssid? Write it below the [wifi] header"]),
    ("bad url", '[server]\nurl = "hymy.kauppa.test"\n',
     ['line 2: server.url: "hymy.kauppa.test" is not a server address; write it like "https://']),
    ("missing url", '[device]\nname = "x"\n', ["server.url: missing; the server address is required"]),
    ("short code", '[server]\nurl = "https://h.example"\nenrolment_code = "abc"\n',
     ["line 3: server.enrolment_code: the value is not valid; use the 6-64 character code printed by "
      "`hymy admin add-device`"]),
    ("missing CA file", '[server]\nurl = "https://h.example"\nca_bundle = "nope.pem"\n',
     ['line 3: server.ca_bundle: "nope.pem": no such file next to hymy.toml']),
    ("bad hostname", '[server]\nurl = "https://h.example"\n[device]\nhostname = "Kassa_1"\n',
     ['line 4: device.hostname: "Kassa_1" is not valid; use a host name in quotes: 1-63 of a-z, 0-9 and \'-\'']),
    ("bad timezone", '[server]\nurl = "https://h.example"\n[device]\n\ntimezone = "Helsinki"\n',
     ['line 5: device.timezone: "Helsinki" is not an IANA time zone; write it like "Europe/Helsinki"']),
    ("short wifi password", '[server]\nurl = "https://h.example"\n[wifi]\nssid = "S"\npassword = "short"\ncountry = "FI"\n',
     ["line 5: wifi.password: the value must be 8-63 characters (or 64 hex digits)"]),
    ("long ssid", '[server]\nurl = "https://h.example"\n[wifi]\nssid = "' + "ä" * 17 + '"\ncountry = "FI"\n',
     ["line 4: wifi.ssid: ", " must be 1-32 bytes long"]),
    ("missing wifi country", '[server]\nurl = "https://h.example"\n[wifi]\nssid = "S"\n',
     ["line 3: wifi.country: missing; country = ... is required here: a two-letter country code"]),
    ("bad wifi country", '[server]\nurl = "https://h.example"\n[wifi]\nssid = "S"\ncountry = "Finland"\n',
     ['line 5: wifi.country: "Finland" is not a two-letter country code such as FI or SE']),
    ("hidden as text", '[server]\nurl = "https://h.example"\n[wifi]\nssid = "S"\ncountry = "FI"\nhidden = "yes"\n',
     ['line 6: wifi.hidden: "yes" is not true or false; use true or false']),
    ("bad rotation", '[server]\nurl = "https://h.example"\n[display]\nrotation = 45\n',
     ["line 4: display.rotation: 45 is not one of the choices; use 0, 90, 180 or 270"]),
    ("wrong type", '[server]\nurl = "https://h.example"\n[display]\nrotation = "90"\n',
     ['line 4: display.rotation: "90" is text, not a number (write 90 without quotes); use 0, 90, 180 or 270']),
    ("table as value", 'server = "https://h.example"\n',
     ['line 1: server: "https://h.example" is not a table; use a table: a [header] line with its keys below it']),
    ("long device name", '[server]\nurl = "https://h.example"\n[device]\nname = "' + "x" * 101 + '"\n',
     ['line 4: device.name: "xxx', 'is not valid; use text in "double quotes", 1-100 characters']),
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
    for raw in ("Illegal character", "(at line", "input should", "Value error", "valid integer"):
        assert raw not in message  # no library wording
    assert "short" not in message.replace("wifi.password", "")  # a secret is never shown


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
    assert tomllib.loads(kiosk.read_text())["server"]["url"] == "https://hymy.kauppa.test"


def test_firstboot_command_exit_code_and_message(root: Path) -> None:
    import sys
    (root / "boot/firmware/hymy.toml").write_text('[display]\nrotation = 7\n')
    proc = procs.run([sys.executable, "-m", "hymy", "firstboot", "--root", str(root)],
                     capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "line 2: display.rotation: 7 is not one of the choices; use 0, 90, 180 or 270" in proc.stderr
    assert proc.stderr.count("display.rotation") == 1, proc.stderr  # the problems are listed once
    assert "Traceback" not in proc.stderr


def _example() -> str:
    from tests.conftest import ROOT

    return (ROOT / "image/hymy.toml.example").read_text()


def test_unedited_example_file_is_refused_naming_each_placeholder(root: Path) -> None:
    p, calls = provision(root, _example())
    with pytest.raises(ConfigError) as err:
        p.run()
    problems = err.value.problems
    keys = [pr.split(": ")[1] for pr in problems]
    assert keys == ["server.url", "server.enrolment_code", "wifi.ssid", "wifi.password"], problems
    assert all("the example's placeholder" in pr for pr in problems), problems
    assert "correct horse" not in str(err.value)  # the password is never shown, even a placeholder
    assert calls == [] and not (root / "etc/hymy/kiosk.toml").exists()


def test_example_file_with_real_values_is_valid_and_documents_every_key() -> None:
    text = _example()
    real = {"https://hymy.example.com": "https://hymy.kauppa.test"}
    for placeholder, _ in PLACEHOLDERS.values():
        real[placeholder] = placeholder[::-1]
    for old, new in real.items():
        assert f'"{old}"' in text, f"{old} is no longer in the example: update PLACEHOLDERS"
        text = text.replace(f'"{old}"', f'"{new}"')
    p = parse(text, None, known_zones=ZONES)
    assert p.server_url == "https://hymy.kauppa.test" and p.wifi_country == "FI"
    lines = key_lines(text)
    for table, field in ProvisioningFile.model_fields.items():
        model = next(a for a in (field.annotation, *get_args(field.annotation)) if hasattr(a, "model_fields"))
        assert (table,) in lines, f"[{table}] not in the example"
        for key in model.model_fields:  # written, or shown commented out like "# ca_bundle = ..."
            assert (table, key) in lines or f"# {key} =" in text, f"{table}.{key} not documented"
