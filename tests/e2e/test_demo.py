"""`hymy demo` started the way `make demo` starts it: every part a real process on loopback."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import procs
from tests.e2e.demorun import running_demo

pytestmark = pytest.mark.slow


def _server_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM responses").fetchone()[0]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _device_responses(base: Path) -> int:
    with sqlite3.connect(base / "kiosk" / "kiosk.db") as conn:
        return conn.execute("SELECT count(*) FROM events WHERE type = 'response'").fetchone()[0]


def _status(config: Path) -> dict:
    out = procs.run([sys.executable, "-m", "hymy", "status", "--json", "--config", str(config)],
                    capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_demo_runs_the_whole_system_and_a_simulated_press_arrives(tmp_path):
    base = tmp_path / "demo"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    with running_demo(["--port", "0", "--days", "2", "--dir", str(base)], env, 180) as demo:
        lines = demo.lines
        text = "\n".join(lines)
        url = demo.banner("Dashboard:").rstrip("/")
        login = demo.banner("Login:").split()
        assert login[0] == "manager" and len(login[-1]) >= 12, text
        assert "offscreen" in text  # no display here, and the demo says so
        assert "keys 1-" not in text  # no window to type into: no keys are offered

        # the banner says how to press a button without a display: a command to paste as it is
        press = demo.banner("Press:")
        assert press.startswith("echo 4 > ") and press.endswith("mockpress.fifo"), press
        assert "1 = very unhappy ... 4 = very happy" in text
        config_text = (base / "kiosk.toml").read_text()
        assert "4 buttons" in config_text and "1-5" not in config_text  # the text follows the real buttons
        device_before = _device_responses(base)
        procs.run(press, shell=True, check=True, timeout=10, cwd=tmp_path)
        deadline = time.monotonic() + 30
        while _device_responses(base) == device_before and time.monotonic() < deadline:
            time.sleep(0.2)
        with sqlite3.connect(base / "kiosk" / "kiosk.db") as conn:
            newest = conn.execute("SELECT mood, json_extract(body, '$.source'), json_extract(body, '$.flags') "
                                  "FROM events WHERE type = 'response' ORDER BY seq DESC LIMIT 1").fetchone()
        # counted whatever the hour: the demo kiosk's store is open around the clock (no "closed" flag)
        assert _device_responses(base) == device_before + 1 and newest == (4, "button", "[]"), newest

        with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(url + "/login", timeout=5) as resp:
            assert resp.status == 200 and b"<form" in resp.read()

        config = base / "kiosk.toml"
        db = base / "server.db"
        # the kiosk's history reaches the server through its own sync agent
        deadline = time.monotonic() + 60
        while _status(config)["pending"] and time.monotonic() < deadline:
            time.sleep(0.5)
        status = _status(config)
        assert status["enrolment"] == "enrolled" and status["pending"] == 0, status
        before = _server_count(db)

        device_before = _device_responses(base)
        # a whole day back, so it holds shop hours whenever the test runs (0.1 days made no press at night)
        procs.run([sys.executable, "-m", "hymy", "simulate", "--config", str(config), "--days", "1",
                   "--seed", "99", "--rate", "10"], check=True, capture_output=True, env=env)
        added = _device_responses(base) - device_before
        deadline = time.monotonic() + 30
        while _server_count(db) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        deadline = time.monotonic() + 30
        while _status(config)["pending"] and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _status(config)["pending"] == 0
        device_responses = _device_responses(base)
        assert added > 0
        # the server's stores: the kiosk's own responses plus the simulated stores'
        with sqlite3.connect(db) as conn:
            kiosk_on_server = conn.execute(
                "SELECT count(*) FROM responses WHERE store_id = ?", (status["store_id"],)).fetchone()[0]
        assert kiosk_on_server == device_responses
        assert _server_count(db) > kiosk_on_server
        children = _children(demo.proc.pid)
        assert len(children) == 3, children  # server, sync agent, kiosk
    # the demo was stopped with SIGTERM, as systemd or a closing terminal stops it
    assert "Demo stopped." in "".join(demo.everything)
    # every child (each in its own session) is gone
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
