"""The watchdog path against a REAL notify socket: the real `hymy sync` and `hymy kiosk --no-screen`
main loops, run as child processes with NOTIFY_SOCKET and WATCHDOG_USEC set exactly as systemd sets
them for our Type=notify units, must send READY=1 and then WATCHDOG=1 steadily; when the loop stops
(SIGSTOP: a hung process), the pings stop, and a supervisor that enforces WatchdogSec like systemd
kills and restarts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import procs

from .supervisor import Supervisor

pytestmark = pytest.mark.slow

WATCHDOG_S = 2.0  # WatchdogSec for the test; the loops ping every half of it


def _config(tmp_path: Path, kind: str) -> Path:
    with socket.socket() as s:  # a port nothing listens on: the agent keeps retrying, loop alive
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = (f'[device]\nname = "wd"\ndata_dir = "{tmp_path / "data"}"\nclock = "trust"\n'
            f'[server]\nurl = "http://127.0.0.1:{port}"\nenrolment_code = "WDTEST-1234"\n')
    if kind == "kiosk":
        text += "[pins]\nbuttons = [5, 6, 13, 19]\n[display]\nenabled = false\n"
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return path


def _argv(kind: str, config: Path) -> list[str]:
    cmd = ["sync"] if kind == "sync" else ["kiosk", "--no-screen"]
    return [sys.executable, "-m", "hymy", *cmd, "--config", str(config)]


def _recv_until(sock: socket.socket, want: str, timeout: float) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            msg = sock.recv(4096).decode()
        except TimeoutError:
            break
        got.append((time.monotonic(), msg))
        if want in msg.splitlines():
            break
    return got


def _drain(sock: socket.socket, seconds: float) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            got.append((time.monotonic(), sock.recv(4096).decode()))
        except TimeoutError:
            break
    return got


@pytest.mark.parametrize("kind", ["sync", "kiosk"])
def test_watchdog_real_main_loop_pings_and_stops_when_hung(tmp_path: Path, kind: str) -> None:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6)),
           "GPIOZERO_PIN_FACTORY": "mock"}
    env.pop("WATCHDOG_PID", None)
    proc = procs.Popen(_argv(kind, _config(tmp_path, kind)), env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready = _recv_until(sock, "READY=1", 60)
        assert ready and "READY=1" in ready[-1][1].splitlines(), (ready, proc.poll())

        pings = [t for t, m in _drain(sock, 3 * WATCHDOG_S) if "WATCHDOG=1" in m.splitlines()]
        assert len(pings) >= 2, pings
        gaps = [b - a for a, b in zip(pings, pings[1:], strict=False)]
        assert max(gaps) < WATCHDOG_S, f"pings {gaps} s apart would trip WatchdogSec={WATCHDOG_S}"

        # hung: the main loop stops; no ping for longer than WatchdogSec is what systemd detects
        proc.send_signal(signal.SIGSTOP)
        _drain(sock, 0.2)  # a datagram already in flight
        silent = _drain(sock, 1.5 * WATCHDOG_S)
        assert not [m for _, m in silent if "WATCHDOG=1" in m], silent

        proc.send_signal(signal.SIGCONT)
        resumed = _recv_until(sock, "WATCHDOG=1", 2 * WATCHDOG_S)
        assert any("WATCHDOG=1" in m.splitlines() for _, m in resumed)

        proc.terminate()
        tail = _recv_until(sock, "STOPPING=1", 10)
        assert proc.wait(10) == 0, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        assert any("STOPPING=1" in m for _, m in tail)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        sock.close()


def test_watchdog_hung_agent_is_killed_and_restarted(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, {"hymy-sync.service": _argv("sync", _config(tmp_path, "sync"))},
                     restart_s=0.1, watchdog_s=WATCHDOG_S)
    try:
        sup.restart(["hymy-sync.service"])
        deadline = time.monotonic() + 60
        while sup.state("hymy-sync.service").active != "active" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sup.state("hymy-sync.service").active == "active"
        unit = sup.units["hymy-sync.service"]
        first = unit.proc
        first.send_signal(signal.SIGSTOP)  # hang it
        deadline = time.monotonic() + 4 * WATCHDOG_S + 30
        while time.monotonic() < deadline:
            state = sup.state("hymy-sync.service")  # polls the socket and enforces WatchdogSec
            if unit.watchdog_kills and state.active == "active":
                break
            time.sleep(0.05)
        assert unit.watchdog_kills == 1
        assert unit.proc is not first and unit.proc.poll() is None
        assert sup.state("hymy-sync.service").restarts == 1
        assert sup.state("hymy-sync.service").active == "active"
    finally:
        sup.close()
