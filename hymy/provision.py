"""First-boot provisioning: ``hymy.toml`` on the boot partition becomes a configured kiosk.

A technician writes one file, ``/boot/firmware/hymy.toml`` (see ``image/hymy.toml.example``), with the
server URL, the one-time enrolment code, an optional CA bundle, the device name, Wi-Fi, time zone,
hostname and display rotation. ``hymy firstboot`` (the ``hymy-firstboot`` unit, as root, before the
network and the kiosk start):

1. parses and validates the whole file; every problem names the line and the key and says what is valid;
2. if anything is wrong, applies nothing: the last good configuration stays in force and the message
   goes to stderr (the journal) and to ``<data_dir>/provision-error.txt``, which the kiosk screen shows;
3. otherwise writes ``/etc/hymy/kiosk.toml`` (merged over the existing one, validated by
   ``kiosk.config.parse_config``), the NetworkManager keyfile (mode 0600), the time zone, the hostname,
   the Wi-Fi country (kernel command line ``cfg80211.ieee80211_regdom``) and the CA bundle;
4. removes the secrets (Wi-Fi password, enrolment code) from the boot partition's file and renames it
   ``hymy.toml.applied``, so it is applied once and a new ``hymy.toml`` re-provisions the device.

On later boots, once the sync agent has enrolled (the token file exists), it also removes the used
enrolment code from ``/etc/hymy/kiosk.toml`` (the agent runs unprivileged and cannot).

Every path hangs off ``root`` (default ``/``) so tests run the real thing in a temporary directory;
commands that act on the running system (``hostname``, ``iw reg set``) go through an injectable runner
and run only when ``root`` is ``/``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import tomllib
import uuid
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hymy import atomicfile
from hymy.atomicfile import fsync_dir
from hymy.errors import ConfigError
from hymy.timestamps import format_ts, utcnow

log = logging.getLogger(__name__)

#: Where things live, relative to ``root``.
BOOT_FILE = Path("boot/firmware/hymy.toml")
DEVICE_CONFIG = Path("etc/hymy/kiosk.toml")
CA_BUNDLE = Path("etc/hymy/ca.pem")
NM_CONNECTION = Path("etc/NetworkManager/system-connections/hymy-wifi.nmconnection")
DATA_DIR = Path("var/lib/hymy")
ERROR_FILE_NAME = "provision-error.txt"
APPLIED_SUFFIX = ".applied"

Runner = Callable[[Sequence[str]], None]

#: Keys the provisioning file accepts, per table, with a one-line description (the docs and the
#: "valid keys" part of error messages come from here).
SCHEMA: dict[str, dict[str, str]] = {
    "server": {
        "url": "central server address, https://... (http:// only on a trusted LAN)",
        "enrolment_code": "one-time code from `hymy admin add-device` (6-64 characters)",
        "ca_bundle": "file name of a PEM CA bundle next to hymy.toml, to trust a private CA",
    },
    "device": {
        "name": "name shown in the dashboard (1-100 characters)",
        "hostname": "network host name: 1-63 of a-z, 0-9 and '-', not starting or ending with '-'",
        "timezone": "IANA time zone such as Europe/Helsinki",
    },
    "wifi": {
        "ssid": "network name (1-32 bytes)",
        "password": "WPA2/WPA3 passphrase, 8-63 characters (or 64 hex digits); omit for an open network",
        "country": "two-letter country code (ISO 3166-1), sets the radio's legal channels",
        "hidden": "true if the network does not broadcast its name",
    },
    "display": {
        "rotation": "0, 90, 180 or 270 degrees",
    },
}
SECRETS = {("wifi", "password"), ("server", "enrolment_code")}

_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass
class Provisioning:
    """A validated provisioning file (``None`` = not given, keep what the device has)."""

    server_url: str | None = None
    enrolment_code: str | None = None
    ca_bundle: Path | None = None
    device_name: str | None = None
    hostname: str | None = None
    timezone: str | None = None
    wifi_ssid: str | None = None
    wifi_password: str | None = None
    wifi_country: str | None = None
    wifi_hidden: bool = False
    rotation: int | None = None


@dataclass
class Result:
    """What ``apply`` changed: a list of human lines (also logged)."""

    changed: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Parsing and validation (pure: text in, Provisioning or ConfigError out)


def key_line(text: str, dotted: str) -> int | None:
    """The 1-based line where ``table.key`` (or just ``table``) is written in TOML ``text``, or None.

    Understands ``[table]`` headers followed by ``key = ...`` and dotted keys (``table.key = ...``).
    """
    parts = dotted.split(".")
    table, key = (parts[0], ".".join(parts[1:])) if len(parts) > 1 else (parts[0], None)
    current = None
    header = None
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]", line)
        if m:
            current = m.group(1).strip().strip("\"'")
            if current == table and header is None:
                header = no
            continue
        m = re.match(r"^([A-Za-z0-9_\-\"' .]+?)\s*=", line)
        if not m:
            continue
        name = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
        full = f"{current}.{name}" if current else name
        if key is None and (full == table or full.startswith(table + ".")):
            return header or no
        if key is not None and full == f"{table}.{key}":
            return no
    return header if key is None else None


def _where(text: str, dotted: str, fallback: str | None = None) -> str:
    line = key_line(text, dotted) or (key_line(text, fallback) if fallback else None)
    return f"line {line}: {dotted}" if line else dotted


def parse(text: str, boot_dir: Path | None = None, *, known_zones: set[str] | None = None,
          require_url: bool = True) -> Provisioning:
    """Validate a provisioning file's text; raise ConfigError listing every problem (line and key).

    ``boot_dir`` is where a ``ca_bundle`` file name is looked up; ``known_zones`` defaults to the
    IANA zones this system knows (``zoneinfo.available_timezones()``); ``require_url`` (default True)
    makes ``server.url`` mandatory (False when the device already has one and the file only changes,
    say, the Wi-Fi).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_LINE.search(msg)
        where = f"line {m.group(1)}: " if m else ""
        what = _TOML_LINE.sub("", msg).strip()
        raise ConfigError(f"{where}TOML syntax error: {what}") from None

    problems: list[str] = []
    p = Provisioning()

    def bad(dotted: str, message: str) -> None:
        problems.append(f"{_where(text, dotted, dotted.split('.')[0])}: {message}")

    for table, value in data.items():
        if table not in SCHEMA:
            bad(table, f"unknown table; valid tables: {', '.join(SCHEMA)}")
            continue
        if not isinstance(value, dict):
            bad(table, "must be a table, e.g. [" + table + "]")
            continue
        for key in value:
            if key not in SCHEMA[table]:
                bad(f"{table}.{key}", f"unknown key; valid keys in [{table}]: {', '.join(SCHEMA[table])}")

    def get(table: str, key: str, kind: type | tuple[type, ...], kind_name: str) -> Any:
        section = data.get(table)
        if not isinstance(section, dict) or key not in section:
            return None
        value = section[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            bad(f"{table}.{key}", f"{value!r} is not {kind_name}")
            return None
        return value

    url = get("server", "url", str, "a string")
    if url is not None:
        if not url.startswith(("https://", "http://")) or len(url) < 10 or " " in url:
            bad("server.url", f"{url!r} is not a server address; write it like https://hymy.example.com")
        else:
            p.server_url = url.rstrip("/")
    elif require_url and "url" not in (data.get("server") if isinstance(data.get("server"), dict) else {}):
        bad("server.url", "missing; the server address is required, e.g. url = \"https://hymy.example.com\"")

    code = get("server", "enrolment_code", str, "a string")
    if code is not None:
        code = code.strip()
        if not 6 <= len(code) <= 64 or any(c.isspace() for c in code):
            bad("server.enrolment_code", "must be the 6-64 character code printed by `hymy admin add-device`")
        else:
            p.enrolment_code = code

    ca = get("server", "ca_bundle", str, "a file name")
    if ca is not None:
        ca_path = (boot_dir / ca) if boot_dir is not None else Path(ca)
        try:
            pem = ca_path.read_text(encoding="ascii", errors="replace")
        except OSError:
            bad("server.ca_bundle", f"{ca!r}: no such file next to hymy.toml; copy the PEM file there too")
        else:
            if "-----BEGIN CERTIFICATE-----" not in pem:
                bad("server.ca_bundle", f"{ca!r} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
            else:
                p.ca_bundle = ca_path

    name = get("device", "name", str, "a string")
    if name is not None:
        if not 1 <= len(name.strip()) <= 100:
            bad("device.name", "must be 1-100 characters")
        else:
            p.device_name = name.strip()

    host = get("device", "hostname", str, "a string")
    if host is not None:
        if not _HOSTNAME.match(host):
            bad("device.hostname", f"{host!r}: use 1-63 of a-z, 0-9 and '-', not starting or ending with '-'")
        else:
            p.hostname = host

    tz = get("device", "timezone", str, "a string")
    if tz is not None:
        zones = known_zones if known_zones is not None else zoneinfo.available_timezones()
        if tz not in zones:
            bad("device.timezone", f"{tz!r} is not an IANA time zone; write it like Europe/Helsinki")
        else:
            p.timezone = tz

    if isinstance(data.get("wifi"), dict):
        ssid = get("wifi", "ssid", str, "a string")
        password = get("wifi", "password", str, "a string")
        country = get("wifi", "country", str, "a string")
        hidden = get("wifi", "hidden", bool, "true or false")
        if ssid is None and "ssid" not in data["wifi"]:
            bad("wifi.ssid", "missing; [wifi] needs the network name (ssid)")
        elif ssid is not None and not 1 <= len(ssid.encode("utf-8")) <= 32:
            bad("wifi.ssid", "must be 1-32 bytes long")
        else:
            p.wifi_ssid = ssid
        if password is not None:
            if not (8 <= len(password) <= 63 or _HEX64.match(password)):
                bad("wifi.password", "must be 8-63 characters (or 64 hex digits); omit it for an open network")
            elif any(ord(c) < 32 for c in password):
                bad("wifi.password", "must not contain control characters")
            else:
                p.wifi_password = password
        if country is None and "country" not in data["wifi"]:
            bad("wifi.country", "missing; the two-letter country code (e.g. FI) sets the legal radio channels")
        elif country is not None:
            if not _COUNTRY.match(country.upper()):
                bad("wifi.country", f"{country!r} is not a two-letter country code such as FI or SE")
            else:
                p.wifi_country = country.upper()
        p.wifi_hidden = bool(hidden)

    rotation = get("display", "rotation", int, "a whole number")
    if rotation is not None:
        if rotation not in (0, 90, 180, 270):
            bad("display.rotation", f"{rotation} is not valid; use 0, 90, 180 or 270")
        else:
            p.rotation = rotation

    if problems:
        raise ConfigError(sorted(problems, key=_line_of))
    return p


def _line_of(problem: str) -> int:
    m = re.match(r"^line (\d+):", problem)
    return int(m.group(1)) if m else 0


# --------------------------------------------------------------------------------------------------
# Writing files


def toml_dumps(data: dict[str, dict[str, Any]]) -> str:
    """A small TOML writer for the device file: tables of strings, numbers, booleans and lists of them."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str | Path):
            return json.dumps(str(v), ensure_ascii=False)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        raise TypeError(f"cannot write {type(v).__name__} to TOML")

    out: list[str] = []
    for table, items in data.items():
        if not items:
            continue
        out.append(f"[{table}]")
        out.extend(f"{k} = {value(v)}" for k, v in items.items() if v is not None)
        out.append("")
    return "\n".join(out)


def write_atomic(path: Path, text: str, mode: int = 0o644, *, owner: tuple[int, int] | None = None) -> bool:
    """Replace ``path`` with ``text`` atomically (temp file with ``mode``, fsync, rename); False when unchanged."""
    try:
        if path.read_text(encoding="utf-8") == text and (path.stat().st_mode & 0o7777) == mode:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    atomicfile.write_atomic(path, text, mode=mode, owner=owner)
    return True


def nm_keyfile(ssid: str, password: str | None, *, hidden: bool = False, uid: str | None = None) -> str:
    """A NetworkManager keyfile (``.nmconnection``) for one Wi-Fi network, autoconnecting, DHCP."""
    uid = uid or str(uuid.uuid5(uuid.NAMESPACE_URL, "hymy-wifi:" + ssid))
    lines = [
        "# Written by hymy firstboot from /boot/firmware/hymy.toml. Mode 0600: it holds the Wi-Fi password.",
        "[connection]",
        "id=hymy-wifi",
        f"uuid={uid}",
        "type=wifi",
        "autoconnect=true",
        "autoconnect-priority=10",
        "",
        "[wifi]",
        "mode=infrastructure",
        f"ssid={_nm_escape(ssid)}",
    ]
    if hidden:
        lines.append("hidden=true")
    if password:
        lines += ["", "[wifi-security]", "key-mgmt=wpa-psk", f"psk={_nm_escape(password)}"]
    lines += ["", "[ipv4]", "method=auto", "", "[ipv6]", "addr-gen-mode=default", "method=auto", ""]
    return "\n".join(lines)


def _nm_escape(value: str) -> str:
    # GLib key files: backslash escapes for leading/trailing space, newline, tab and backslash.
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
    if out.startswith(" "):
        out = "\\s" + out[1:]
    return out


def scrub_secrets(text: str) -> str:
    """The provisioning text with the Wi-Fi password and enrolment code lines replaced by a comment."""
    out: list[str] = []
    current = None
    for raw in text.splitlines(keepends=True):
        line = raw.strip()
        m = re.match(r"^\[\s*([A-Za-z0-9_\-]+)\s*\]", line)
        if m:
            current = m.group(1)
        m = re.match(r"^([A-Za-z0-9_\-.]+)\s*=", line)
        if m:
            name = m.group(1)
            full = name if "." in name else f"{current}.{name}"
            if tuple(full.split(".", 1)) in SECRETS:
                out.append(f"# {full} removed by hymy firstboot (it is a secret)\n")
                continue
        out.append(raw)
    return "".join(out)


def _set_cmdline_param(cmdline: str, key: str, value: str) -> str:
    words = [w for w in cmdline.split() if not w.startswith(key + "=")]
    words.append(f"{key}={value}")
    return " ".join(words) + "\n"


def _run(argv: Sequence[str]) -> None:
    subprocess.run(list(argv), check=False, timeout=30, capture_output=True)


# --------------------------------------------------------------------------------------------------
# Applying


class Provisioner:
    """Applies a provisioning file under ``root``; see the module docstring.

    ``runner`` runs commands that change the running system (default: subprocess, only when ``root`` is
    ``/``); ``hymy_ids`` is the (uid, gid) that should own readable config (default: looked up).
    """

    def __init__(self, root: Path | str = "/", *, runner: Runner | None = None,
                 known_zones: set[str] | None = None) -> None:
        self.root = Path(root)
        live = self.root.resolve() == Path("/")
        self.runner: Runner | None = runner if runner is not None else (_run if live else None)
        self.known_zones = known_zones

    # paths
    def path(self, rel: Path) -> Path:
        return self.root / rel

    @property
    def boot_file(self) -> Path:
        return self.path(BOOT_FILE)

    @property
    def error_file(self) -> Path:
        return self.path(DATA_DIR) / ERROR_FILE_NAME

    def _hymy_gid(self) -> int | None:
        try:
            for line in self.path(Path("etc/group")).read_text().splitlines():
                parts = line.split(":")
                if parts[0] == "hymy":
                    return int(parts[2])
        except (OSError, ValueError, IndexError):
            pass
        return None

    def run(self) -> Result:
        """Provision from the boot file if there is one; scrub a used enrolment code once enrolled.

        Raises ConfigError (nothing applied) for a bad file, after recording it for the kiosk screen.
        """
        result = Result()
        if self.boot_file.exists():
            try:
                text = self.boot_file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                self._fail(ConfigError("is not UTF-8 text; save it as UTF-8", str(self.boot_file)))
            try:
                prov = parse(text, self.boot_file.parent, known_zones=self.known_zones,
                             require_url=not self._has_server_url())
                result = self.apply(prov)
            except ConfigError as exc:
                self._fail(ConfigError(exc.problems, str(self.boot_file)))
            self._finish(text)
            self.error_file.unlink(missing_ok=True)
        if self._scrub_used_code():
            result.changed.append(f"removed the used enrolment code from /{DEVICE_CONFIG}")
        return result

    def _has_server_url(self) -> bool:
        try:
            current = tomllib.loads(self.path(DEVICE_CONFIG).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False
        return bool((current.get("server") or {}).get("url"))

    def _fail(self, exc: ConfigError) -> None:
        message = (
            f"Provisioning file refused at {format_ts_now()}; nothing was changed and the last good "
            f"configuration stays in force.\n{exc}\nFix the file on the boot partition and restart.\n"
        )
        log.error("%s", message)
        try:
            self.error_file.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.error_file, message, 0o644)
        except OSError as err:
            log.error("cannot write %s: %s", self.error_file, err)
        raise exc

    def apply(self, prov: Provisioning) -> Result:
        """Apply a validated file. The device config is written last, after every other step worked."""
        result = Result()
        device_cfg = self._merged_device_config(prov)  # validates before anything is written

        if prov.ca_bundle is not None and write_atomic(
            self.path(CA_BUNDLE), prov.ca_bundle.read_text(encoding="ascii"), 0o644
        ):
            result.changed.append(f"CA bundle /{CA_BUNDLE}")
        if prov.wifi_ssid is not None:
            text = nm_keyfile(prov.wifi_ssid, prov.wifi_password, hidden=prov.wifi_hidden)
            if write_atomic(self.path(NM_CONNECTION), text, 0o600):
                result.changed.append(f"Wi-Fi '{prov.wifi_ssid}' /{NM_CONNECTION}")
        if prov.wifi_country is not None:
            cmdline = self.path(Path("boot/firmware/cmdline.txt"))
            if cmdline.exists():
                old = cmdline.read_text(encoding="utf-8")
                new = _set_cmdline_param(old, "cfg80211.ieee80211_regdom", prov.wifi_country)
                if new.split() != old.split() and write_atomic(cmdline, new, cmdline.stat().st_mode & 0o7777):
                    result.changed.append(f"Wi-Fi country {prov.wifi_country}")
            self._command(["iw", "reg", "set", prov.wifi_country])
        if prov.timezone is not None:
            localtime = self.path(Path("etc/localtime"))
            target = Path("/usr/share/zoneinfo") / prov.timezone
            if not (localtime.is_symlink() and Path(os.readlink(localtime)) == target):
                tmp = localtime.with_name(".localtime.hymy")
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(target)
                os.replace(tmp, localtime)
                result.changed.append(f"time zone {prov.timezone}")
            write_atomic(self.path(Path("etc/timezone")), prov.timezone + "\n", 0o644)
        if prov.hostname is not None:
            if write_atomic(self.path(Path("etc/hostname")), prov.hostname + "\n", 0o644):
                result.changed.append(f"hostname {prov.hostname}")
            self._hosts(prov.hostname)
            self._command(["hostname", prov.hostname])

        gid = self._hymy_gid()
        owner = (0, gid) if gid is not None and os.geteuid() == 0 else None
        if write_atomic(self.path(DEVICE_CONFIG), toml_dumps(device_cfg), 0o640, owner=owner):
            result.changed.append(f"device config /{DEVICE_CONFIG}")
        for line in result.changed:
            log.info("provisioned: %s", line)
        return result

    def _merged_device_config(self, prov: Provisioning) -> dict[str, dict[str, Any]]:
        from kiosk.config import parse_config

        path = self.path(DEVICE_CONFIG)
        current: dict[str, Any] = {}
        if path.exists():
            try:
                current = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                log.warning("%s unreadable (%s); writing a fresh one", path, exc)
        merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in current.items() if isinstance(v, dict)}
        server = merged.setdefault("server", {})
        if prov.server_url is not None:
            server["url"] = prov.server_url
        if prov.enrolment_code is not None:
            server["enrolment_code"] = prov.enrolment_code
        if prov.ca_bundle is not None:
            server["ca_bundle"] = "/" + str(CA_BUNDLE)
        if prov.device_name is not None:
            merged.setdefault("device", {})["name"] = prov.device_name
        if prov.rotation is not None:
            merged.setdefault("display", {})["rotation"] = prov.rotation
        parse_config(merged, path)  # raises ConfigError: nothing written yet
        return merged

    def _hosts(self, hostname: str) -> None:
        hosts = self.path(Path("etc/hosts"))
        try:
            lines = hosts.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = ["127.0.0.1\tlocalhost"]
        kept = [ln for ln in lines if not ln.startswith("127.0.1.1")]
        kept.append(f"127.0.1.1\t{hostname}")
        write_atomic(hosts, "\n".join(kept) + "\n", 0o644)

    def _command(self, argv: list[str]) -> None:
        if self.runner is None:
            return
        try:
            self.runner(argv)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("%s failed: %s (takes effect at the next boot)", " ".join(argv), exc)

    def _finish(self, text: str) -> None:
        """Scrub the secrets from the boot file and rename it so it is applied once."""
        applied = self.boot_file.with_name(self.boot_file.name + APPLIED_SUFFIX)
        write_atomic(applied, scrub_secrets(text), 0o644)
        self.boot_file.unlink()
        fsync_dir(self.boot_file.parent)

    def _scrub_used_code(self) -> bool:
        from kiosk.config import load_config

        cfg_path = self.path(DEVICE_CONFIG)
        if not cfg_path.exists():
            return False
        try:
            cfg = load_config(cfg_path)
        except ConfigError:
            return False
        if not cfg.server.enrolment_code:
            return False
        token = cfg.token_path
        token = self.root / token.relative_to("/") if token.is_absolute() else token
        if not token.exists() or token.stat().st_size == 0:
            return False
        from sync.enrolment import remove_enrolment_code

        if not remove_enrolment_code(cfg_path):
            return False
        gid = self._hymy_gid()
        if gid is not None and os.geteuid() == 0:  # the rewrite made it root:root; the kiosk must read it
            os.chown(cfg_path, 0, gid)
        return True


def format_ts_now() -> str:
    return format_ts(utcnow())


def firstboot(root: Path | str = "/", runner: Runner | None = None) -> Result:
    """The ``hymy firstboot`` entry point: ``Provisioner(root).run()``."""
    return Provisioner(root, runner=runner).run()
