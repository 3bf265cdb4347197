"""The unit files in systemd/: `systemd-analyze verify` passes, and the settings the issue asks for
are there (Type=notify + WatchdogSec, Restart=always, the hymy user and its groups, StateDirectory,
hardening directives each with a comment)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests import procs
from tests.conftest import ROOT, need

UNITS = sorted((ROOT / "systemd").glob("*.service"))
NAMES = {p.name for p in UNITS}
HARDENING = ("ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges", "PrivateDevices",
             "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups", "ProtectClock",
             "RestrictAddressFamilies", "MemoryDenyWriteExecute", "ReadWritePaths", "SystemCallFilter")


def settings(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_units_all_four_exist() -> None:
    assert {"hymy-kiosk.service", "hymy-sync.service", "hymy-server.service", "hymy-firstboot.service"} == NAMES


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Verified as copies whose ExecStart points at an executable that exists here (verify insists)."""
    analyze = shutil.which("systemd-analyze")
    need("systemd", analyze is not None, "install systemd (systemd-analyze)")
    fake = tmp_path / "opt/hymy/current/bin/hymy"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS:
        text = unit.read_text()
        assert "/opt/hymy/current/bin/hymy" in text
        (units / unit.name).write_text(text.replace("/opt/hymy/current/bin/hymy", str(fake)))
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{units}:", "SYSTEMD_LOG_LEVEL": "notice"}
    proc = procs.run([analyze, "verify", *[str(units / u.name) for u in UNITS]],
                     capture_output=True, text=True, env=env, timeout=120)
    complaints = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "hymy" in ln]
    assert proc.returncode == 0, proc.stderr
    # verify only warns (exit 0) for unknown keys or bad values: any line naming our units fails
    assert complaints == []


def test_units_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a misspelt directive is reported."""
    analyze = shutil.which("systemd-analyze")
    need("systemd", analyze is not None, "install systemd (systemd-analyze)")
    unit = tmp_path / "hymy-broken.service"
    unit.write_text("[Service]\nType=notifyy\nExecStart=/bin/true\nProtectSystm=strict\n")
    proc = procs.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60,
                     env={**os.environ, "SYSTEMD_UNIT_PATH": f"{tmp_path}:"})
    out = proc.stdout + proc.stderr
    assert "ProtectSystm" in out and "notifyy" in out


@pytest.mark.parametrize("name", ["hymy-kiosk.service", "hymy-sync.service"])
def test_units_kiosk_and_sync_are_notify_with_watchdog(name: str) -> None:
    s = settings(ROOT / "systemd" / name)
    assert s["Type"] == ["notify"]
    assert 10 <= int(s["WatchdogSec"][0]) <= 120
    assert s["Restart"] == ["always"]
    assert 1 <= int(s["RestartSec"][0]) <= 30
    assert s["User"] == ["hymy"] and s["Group"] == ["hymy"]
    assert s["StateDirectory"] == ["hymy"]
    assert s["ExecStart"][0].startswith("/opt/hymy/current/bin/hymy ")
    assert s["StartLimitIntervalSec"] == ["0"], "never give up restarting a kiosk"


def test_units_kiosk_groups_and_kmsdrm() -> None:
    s = settings(ROOT / "systemd/hymy-kiosk.service")
    assert set(s["SupplementaryGroups"][0].split()) == {"gpio", "video", "render", "input"}
    env = " ".join(s["Environment"])
    assert "SDL_VIDEODRIVER=kmsdrm" in env and "HYMY_CONFIG=/etc/hymy/kiosk.toml" in env
    assert s["ExecStart"] == ["/opt/hymy/current/bin/hymy kiosk"]
    assert settings(ROOT / "systemd/hymy-sync.service")["SupplementaryGroups"] == [""]


def test_units_never_run_as_pi() -> None:
    for unit in UNITS:
        assert not re.search(r"^User=pi$", unit.read_text(), re.M), unit.name


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_units_every_hardening_directive_is_explained(unit: Path) -> None:
    """Each hardening directive is set with a comment above it, or named in a comment saying why not."""
    lines = unit.read_text().splitlines()
    text = unit.read_text()
    for directive in HARDENING:
        set_at = [i for i, ln in enumerate(lines) if ln.startswith(directive + "=")]
        if set_at:
            i = set_at[0]
            j = i - 1
            while j >= 0 and not lines[j].startswith("#") and "=" in lines[j]:
                j -= 1  # a group of related directives shares one comment
            assert j >= 0 and lines[j].startswith("#"), f"{unit.name}: {directive} has no comment"
        else:
            assert re.search(rf"#.*\b{directive}\b", text), f"{unit.name}: {directive} neither set nor explained"
