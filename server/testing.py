"""Run a real server on a free loopback port, for tests (this package's, the sync agent's, end to end).

- :func:`run_server` - Uvicorn in a thread of this process; yields the base URL (``http://127.0.0.1:PORT``).
  The app is available as ``run_server(...).app`` via :func:`serve` if the test needs ``app.state``.
- :func:`server_process` / :func:`run_server_process` - ``hymy server`` in a child process (scale-out tests,
  benchmarks: separate processes), its output in a log file.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from hymy import children

from .app import create_app
from .ratelimit import WINDOW_S
from .settings import Settings


@dataclass
class Running:
    base_url: str
    app: FastAPI


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serve(settings: Settings | None = None, app: FastAPI | None = None, timeout_s: float = 10.0) -> Iterator[Running]:
    """Uvicorn serving ``app`` (or ``create_app(settings)``) on a free 127.0.0.1 port, in a thread."""
    app = app or create_app(settings)
    sock = _bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"test server on port {port} did not start")
        time.sleep(0.01)
    try:
        yield Running(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout_s)
        sock.close()


@contextlib.contextmanager
def run_server(settings: Settings | None = None, app: FastAPI | None = None) -> Iterator[str]:
    """``with run_server(Settings(database_url=...)) as base_url:`` a real Uvicorn on a free port."""
    with serve(settings, app) as running:
        yield running.base_url


def clear_of_minute_end(margin_s: float = 10.0) -> None:
    """Wait, if need be, until the wall-clock minute has more than ``margin_s`` seconds left: the request
    limits count per minute (``server.ratelimit``), so a test that counts up to a limit must not see the
    window turn over midway."""
    left = WINDOW_S - time.time() % WINDOW_S
    if left <= margin_s:
        time.sleep(left + 0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    base_url: str
    pid: int
    #: Where its stdout and stderr go (a file, never a pipe: a pipe nobody reads fills up under load and
    #: the server then blocks in its logging call and stops serving).
    log: Path


@contextlib.contextmanager
def server_process(database_url: str, env: dict[str, str] | None = None, timeout_s: float = 30.0,
                   port: int | None = None, log: Path | None = None, workers: int = 1) -> Iterator[ServerProcess]:
    """``hymy server --workers workers`` as a child process on ``port`` (default a free one), its output in
    ``log`` (default a temporary file, removed afterwards); stopped on exit. The child dies with this
    process (its workers with it: SIGTERM stops them all)."""
    port = port or free_port()
    child_env = {**os.environ, "HYMY_DATABASE_URL": database_url, **(env or {})}
    with contextlib.ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hymy-server-"))) / "server.log"
        with open(log, "wb") as out:
            proc = children.popen([sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port),
                                   "--workers", str(workers)],
                                  env=child_env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                if proc.poll() is not None:
                    tail = log.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"server process exited {proc.returncode}: {tail}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(base + "/readyz", timeout=1.0).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server process on port {port} not ready after {timeout_s} s")
                time.sleep(0.1)
            yield ServerProcess(base, proc.pid, log)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def run_server_process(database_url: str, env: dict[str, str] | None = None, timeout_s: float = 30.0,
                       port: int | None = None, workers: int = 1) -> Iterator[str]:
    """``hymy server --workers workers`` as a child process on ``port`` (default a free one); yields its base
    URL; stopped on exit."""
    with server_process(database_url, env, timeout_s, port, workers=workers) as running:
        yield running.base_url
