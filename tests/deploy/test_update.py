"""deploy.update: real releases (venvs from real wheels), the real `current` link, real processes
supervised over a real notify socket (tests/deploy/supervisor.py stands in for systemd only)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from deploy.update import Updater, resolve_source
from kiosk.store import Store

from .supervisor import Supervisor
from .wheels import build_wheel

pytestmark = pytest.mark.slow


def _tree_digest(*dirs: Path) -> str:
    h = hashlib.sha256()
    for d in dirs:
        for p in sorted(d.rglob("*")):
            if p.is_file():
                h.update(str(p).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def site(tmp_path: Path):
    """A device: /opt/hymy with release 1.0.0 current, a data dir with a real store, a config file."""
    prefix = tmp_path / "opt-hymy"
    data = tmp_path / "var-lib-hymy"
    etc = tmp_path / "etc-hymy"
    etc.mkdir()
    (etc / "kiosk.toml").write_text(f'[device]\nname = "till 2"\ndata_dir = "{data}"\n')
    store = Store(data / "kiosk.db")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    sup = Supervisor(tmp_path, {"hymy-sync.service": [str(prefix / "current/bin/hymy"), "sync"]},
                     restart_s=0.1)
    log: list[str] = []
    updater = Updater(prefix, manager=sup, watch_s=3.0, poll_s=0.05, python=sys.executable,
                      system_site_packages=False, pip_options=["--no-index", "--no-deps"], pip_from_here=True,
                      log=log.append)
    yield {"prefix": prefix, "data": data, "etc": etc, "store": store, "wheels": wheels, "sup": sup,
           "updater": updater, "log": log}
    sup.close()
    store.close()


def _record_some(store: Store) -> None:
    from datetime import UTC, datetime

    import uuid6

    from hymy.protocol import Response
    rows = [Response(id=str(uuid6.uuid7()), question_id="q1", mood=m, scale=4, source="button",
                     pressed_at=datetime(2026, 11, 23, 10, i, tzinfo=UTC), clock_synced=True,
                     boot_id="b", uptime_ms=1000 * i, flags=[], app_version="1.0.0")
            for i, m in enumerate([1, 2, 3, 4, 4])]
    store.append_many(rows)


def test_update_good_release_switches_and_keeps_data(site) -> None:
    up: Updater = site["updater"]
    first = build_wheel(site["wheels"], "1.0.0")
    assert up.update(first).ok
    assert os.readlink(site["prefix"] / "current") == "releases/1.0.0"
    _record_some(site["store"])
    before = _tree_digest(site["data"], site["etc"])

    second = build_wheel(site["wheels"], "1.1.0")
    outcome = up.update(second)

    assert outcome.ok, outcome.summary
    assert outcome.previous == "1.0.0" and outcome.version == "1.1.0"
    assert os.readlink(site["prefix"] / "current") == "releases/1.1.0"
    assert (site["prefix"] / "releases/1.0.0/bin/hymy").exists(), "the old release stays for a rollback"
    info = json.loads((site["prefix"] / "releases/1.1.0/release.json").read_text())
    assert info["version"] == "1.1.0" and "failed" not in info
    # the running service is the new release's process, and it said READY over the notify socket
    assert site["sup"].state("hymy-sync.service").active == "active"
    assert any("STATUS=1.1.0" in m for m in site["sup"].units["hymy-sync.service"].messages)
    assert _tree_digest(site["data"], site["etc"]) == before
    assert site["store"].pending_count() == 5

    # the same wheel again: nothing to do
    assert "nothing to do" in up.update(second).summary


@pytest.mark.parametrize("behaviour", ["crash", "hang"])
def test_update_never_ready_rolls_back_and_keeps_data(site, behaviour: str) -> None:
    up: Updater = site["updater"]
    assert up.update(build_wheel(site["wheels"], "1.0.0")).ok
    _record_some(site["store"])
    before = _tree_digest(site["data"], site["etc"])

    outcome = up.update(build_wheel(site["wheels"], "2.0.0", behaviour))

    assert not outcome.ok
    assert "rolled back to 1.0.0" in outcome.summary
    assert "WARNING" not in outcome.summary
    assert os.readlink(site["prefix"] / "current") == "releases/1.0.0"
    assert site["sup"].state("hymy-sync.service").active == "active"  # the old release runs again
    info = json.loads((site["prefix"] / "releases/2.0.0/release.json").read_text())
    assert "not ready within 3 s" in info["failed"]
    assert _tree_digest(site["data"], site["etc"]) == before
    assert site["store"].pending_count() == 5


def test_update_rolls_back_when_health_check_fails(site, tmp_path: Path) -> None:
    up: Updater = site["updater"]
    assert up.update(build_wheel(site["wheels"], "1.0.0")).ok
    up.health_command = ["bin/python", "-c", "import sys; sys.exit('store unreadable')"]
    outcome = up.update(build_wheel(site["wheels"], "1.2.0"))
    assert not outcome.ok and "health check" in outcome.summary and "store unreadable" in outcome.summary
    assert os.readlink(site["prefix"] / "current") == "releases/1.0.0"


def test_update_keeps_only_recent_releases(site) -> None:
    up: Updater = site["updater"]
    up.keep = 2
    for v in ["1.0.0", "1.1.0", "1.2.0"]:
        assert up.update(build_wheel(site["wheels"], v)).ok
    assert sorted(p.name for p in (site["prefix"] / "releases").iterdir()) == ["1.1.0", "1.2.0"]


def test_resolve_source_kinds(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "3.1.4")
    src = resolve_source(wheel, "kiosk")
    assert src.version == "3.1.4" and src.spec.endswith("[kiosk]") and src.pip_options == []
    house = resolve_source(tmp_path, "kiosk")
    assert house.spec == "hymy[kiosk]==3.1.4" and "--no-index" in house.pip_options
    repo = resolve_source(Path(__file__).resolve().parents[2], "kiosk")
    import hymy
    assert repo.version == hymy.__version__


def test_systemctl_manager_commands_and_parsing() -> None:
    """The production ServiceManager: which systemctl commands it runs and how it reads them."""
    import subprocess

    from deploy.update import Systemctl, UnitState

    calls: list[list[str]] = []
    answers = {
        "is-enabled": (0, "enabled\n", ""),
        "restart": (1, "", "Job for hymy-sync.service failed because the control process exited.\n"),
        "show": (0, "ActiveState=active\nSubState=running\nNRestarts=2\n", ""),
    }

    def runner(argv):
        calls.append(list(argv))
        code, out, err = answers[argv[1]]
        return subprocess.CompletedProcess(argv, code, out, err)

    sc = Systemctl(runner)
    assert sc.enabled("hymy-sync.service")
    assert sc.state("hymy-sync.service") == UnitState("active", "running", 2)
    problem = sc.restart(["hymy-kiosk.service", "hymy-sync.service"])
    assert problem and "control process exited" in problem
    assert calls == [
        ["systemctl", "is-enabled", "hymy-sync.service"],
        ["systemctl", "show", "-p", "ActiveState,SubState,NRestarts", "hymy-sync.service"],
        ["systemctl", "restart", "hymy-kiosk.service", "hymy-sync.service"],
    ]
