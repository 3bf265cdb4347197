"""``python -m sync`` as a service process: READY and WATCHDOG to systemd's socket, delivery, clean SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiosk.store import Store
from tests import procs
from tests.sync.helpers import presses, write_config

ROOT = Path(__file__).resolve().parents[2]


def test_service_process_notifies_systemd_delivers_and_stops_on_sigterm(tmp_path, live_server):
    device_id, code = live_server.new_device("service")
    config = write_config(tmp_path, live_server.url, code=code)
    sock_dir = tempfile.mkdtemp(prefix="hymy-notify-")  # short path: AF_UNIX allows ~108 bytes
    sock_path = os.path.join(sock_dir, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.2)
    env = {**os.environ, "NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "200000"}
    env.pop("WATCHDOG_PID", None)
    proc = procs.Popen([sys.executable, "-m", "sync", "--config", str(config)], cwd=ROOT, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    messages: list[str] = []

    def collect(until: float, want) -> None:
        while time.monotonic() < until and not want():
            with contextlib.suppress(TimeoutError):
                messages.append(sock.recv(4096).decode())

    try:
        collect(time.monotonic() + 20, lambda: sum(m == "WATCHDOG=1" for m in messages) >= 3)
        assert any(m.startswith("READY=1") for m in messages), messages
        assert sum(m == "WATCHDOG=1" for m in messages) >= 3, "the loop keeps kicking the watchdog"
        kiosk = Store(tmp_path / "data" / "kiosk.db")
        ids = presses(kiosk, 5)
        deadline = time.monotonic() + 10
        while sorted(live_server.ids(device_id)) != sorted(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(live_server.ids(device_id)) == sorted(ids)
        assert "enrolment_code" not in config.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        collect(time.monotonic() + 1, lambda: "STOPPING=1" in messages)
        assert "STOPPING=1" in messages
        kiosk.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out, err = proc.communicate()
        sock.close()
        os.unlink(sock_path)
        os.rmdir(sock_dir)
    token = (tmp_path / "data" / "device-token").read_text().strip()
    assert token not in out and token not in err
