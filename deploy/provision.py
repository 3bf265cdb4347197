"""First-boot provisioning: ``hymy.toml`` on the boot partition becomes a configured kiosk.

A technician writes one file, ``/boot/firmware/hymy.toml`` (see ``image/hymy.toml.example``), with the
server URL, the one-time enrolment code, an optional CA bundle, the device name, Wi-Fi, time zone,
hostname and display rotation. ``hymy firstboot`` (the ``hymy-firstboot`` unit, as root, before the
network and the kiosk start):

1. parses and validates the whole file (``deploy.provisionfile``: the keys it shares with the device config
   use ``kiosk.config``'s own rules); every problem names the line and the key and says what is valid,
   and the placeholder values of the example are refused;
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
import subprocess
import tomllib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.provisionfile import SECRETS, Provisioning, parse
from hymy import atomicfile
from hymy.atomicfile import fsync_dir
from hymy.configfile.lines import statements
from hymy.configfile.syntax import decode
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


@dataclass
class Result:
    """What ``apply`` changed: a list of human lines (also logged)."""

    changed: list[str] = field(default_factory=list)


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
    secret = {no: ".".join(path) for no, path in statements(text) if path in SECRETS}
    lines = text.splitlines(keepends=True)
    return "".join(f"# {secret[no]} removed by hymy firstboot (it is a secret)\n" if no in secret else raw
                   for no, raw in enumerate(lines, start=1))


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
                text = decode(self.boot_file.read_bytes())
                prov = parse(text, self.boot_file.parent, known_zones=self.known_zones,
                             require_url=not self._has_server_url())
                result = self.apply(prov)
            except ConfigError as exc:  # the boot file's, or (path set) the existing device config's
                self._fail(ConfigError(exc.problems, exc.path or str(self.boot_file)))
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
        """Record ``exc`` for the kiosk screen and raise it. The problems are listed once, by whoever
        catches it (``hymy firstboot`` prints them); the log line only says what happened."""
        message = (
            f"Provisioning file refused at {format_ts_now()}; nothing was changed and the last good "
            f"configuration stays in force.\n{exc}\nFix the file on the boot partition and restart.\n"
        )
        log.error("provisioning file refused (%d problem%s); nothing was changed, the last good configuration "
                  "stays in force; shown on the kiosk screen from %s", len(exc.problems),
                  "" if len(exc.problems) == 1 else "s", self.error_file)
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
        text = None
        if path.exists():
            try:
                text = path.read_text(encoding="utf-8")
                current = tomllib.loads(text)
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                log.warning("%s unreadable (%s); writing a fresh one", path, exc)
                text = None
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
        parse_config(merged, path, text=text)  # raises ConfigError naming kiosk.toml: nothing written yet
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
