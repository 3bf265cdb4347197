"""Child processes end with their parent, however it ends: a test run killed with SIGKILL or SIGTERM, or
cut short by pytest-timeout, leaves no ``hymy server`` running; nor does a ``hymy demo`` killed with -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.testing import free_port
from tests import procs
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

#: A test run in its own pytest process. Its fixture starts a real server through tests/procs.py as the
#: suite's helpers do (its own process group), writes the server's pid, and - like a careless fixture -
#: never stops it; the test then hangs until the run is ended from outside or by pytest-timeout.
INNER = """
import os, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

from tests import procs

END = os.environ["INNER_END"]


@pytest.fixture
def server():
    port = os.environ["INNER_PORT"]
    proc = procs.Popen([sys.executable, "-m", "hymy", "server", "--host", "127.0.0.1", "--port", port],
                       start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    Path(os.environ["INNER_PID_FILE"]).write_text(str(proc.pid))
    return proc


@pytest.mark.timeout(2 if END.startswith("timeout") else 3600,
                     method="thread" if END == "timeout-thread" else "signal")
def test_hangs(server):
    time.sleep(3600)
"""


def _wait_for_file(path: Path, proc: subprocess.Popen, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while not (path.exists() and path.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read() if proc.poll() is not None else ""
            raise AssertionError(f"the inner test run did not start its server (exit {proc.poll()}):\n{out}")
        time.sleep(0.1)
    return path.read_text()


@pytest.mark.parametrize("end", ["SIGKILL", "SIGTERM", "timeout-thread", "timeout-signal"])
def test_server_started_by_a_test_ends_with_the_test_run(tmp_path: Path, end: str) -> None:
    (tmp_path / "test_inner.py").write_text(INNER)
    pid_file = tmp_path / "server.pid"
    env = {**os.environ, "INNER_PORT": str(free_port()), "INNER_PID_FILE": str(pid_file), "INNER_END": end,
           "HYMY_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}", "PYTHONPATH": str(ROOT),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # only pytest-timeout (-p timeout): a quicker start
    inner = procs.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "timeout", "-p", "tests.procs",
                         "-o", "timeout_func_only=true", "--rootdir", str(tmp_path), "-c", os.devnull,
                         str(tmp_path / "test_inner.py")],
                        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        server = int(_wait_for_file(pid_file, inner, 120))
        assert procs.alive(server)
        if end.startswith("timeout"):
            out, _ = inner.communicate(timeout=120)
            assert "Timeout" in out, out  # pytest-timeout ended the test (and, with method=thread, the run)
            if end == "timeout-signal":  # the run went on to its end: the session fixture stopped the server
                assert "killed 1 child process(es) a test left running" in out, out
        else:
            inner.send_signal(getattr(signal, end))
            inner.wait(30)
        assert procs.wait_gone([server], 30) == [], f"the server outlived the test run ({end})"
    finally:
        if inner.poll() is None:
            inner.kill()
        inner.communicate()


def test_demo_killed_with_sigkill_leaves_no_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    demo = procs.Popen([sys.executable, "-m", "hymy", "demo", "--port", "0", "--days", "0", "--no-screen",
                        "--dir", str(tmp_path / "demo")], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        seen = []
        for line in demo.stdout:
            seen.append(line)
            if "Ctrl-C stops everything" in line:
                break
        started = procs.children_of(demo.pid)
        assert len(started) == 3, "".join(seen)  # server, sync agent, kiosk
        demo.kill()
        demo.wait(30)
        assert procs.wait_gone(started, 30) == [], "children of the killed demo still run"
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        demo.stdout.close()
