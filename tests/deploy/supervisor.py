"""A tiny real service manager for the deploy tests (systemd itself cannot run in a test).

It does for a few processes what systemd does for ``Type=notify`` units with ``Restart=always``: each
unit's command runs with ``NOTIFY_SOCKET`` set to a real AF_UNIX datagram socket; the unit is
``activating`` until the process sends ``READY=1`` and ``active`` after; a process that exits is
restarted after ``restart_s`` (``NRestarts`` counts up); with ``watchdog_s`` set, ``WATCHDOG_USEC`` is
passed and a process that sends no ``WATCHDOG=1`` for that long is killed (SIGABRT, as systemd does)
and restarted. It implements ``deploy.update.ServiceManager``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deploy.update import UnitState
from tests import procs


@dataclass
class _Unit:
    argv: list[str]
    sock: socket.socket
    path: str
    proc: subprocess.Popen | None = None
    ready: bool = False
    restarts: int = 0
    exited_at: float | None = None
    last_ping: float = 0.0
    messages: list[str] = field(default_factory=list)
    watchdog_kills: int = 0


class Supervisor:
    def __init__(self, directory: Path, commands: dict[str, Sequence[str]], *, env: dict[str, str] | None = None,
                 restart_s: float = 0.2, watchdog_s: float | None = None) -> None:
        self.env = {**os.environ, **(env or {})}
        self.restart_s = restart_s
        self.watchdog_s = watchdog_s
        self.units: dict[str, _Unit] = {}
        for i, (name, argv) in enumerate(commands.items()):
            path = str(directory / f"notify-{i}.sock")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(path)
            sock.setblocking(False)
            self.units[name] = _Unit(list(argv), sock, path)

    # ServiceManager
    def enabled(self, unit: str) -> bool:
        return unit in self.units

    def restart(self, units: Sequence[str]) -> str | None:
        for name in units:
            u = self.units[name]
            self._stop(u)
            u.restarts = 0
            self._start(u)
        return None

    def state(self, unit: str) -> UnitState:
        u = self.units[unit]
        self._poll(u)
        if u.proc is None:
            return UnitState("inactive", "dead", u.restarts)
        if u.proc.poll() is not None:
            return UnitState("activating", "auto-restart", u.restarts)
        return UnitState("active" if u.ready else "activating", "running" if u.ready else "start", u.restarts)

    # process handling
    def _start(self, u: _Unit) -> None:
        env = dict(self.env, NOTIFY_SOCKET=u.path)
        if self.watchdog_s:
            env["WATCHDOG_USEC"] = str(int(self.watchdog_s * 1_000_000))
        u.ready = False
        u.exited_at = None
        u.last_ping = time.monotonic()
        u.proc = procs.Popen(u.argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _stop(self, u: _Unit) -> None:
        if u.proc is not None and u.proc.poll() is None:
            u.proc.terminate()
            try:
                u.proc.wait(5)
            except subprocess.TimeoutExpired:
                u.proc.kill()
                u.proc.wait(5)
        self._drain(u)
        u.proc = None

    def _drain(self, u: _Unit) -> list[str]:
        got = []
        while True:
            try:
                got.append(u.sock.recv(4096).decode())
            except BlockingIOError:
                return got

    def _poll(self, u: _Unit) -> None:
        now = time.monotonic()
        for msg in self._drain(u):
            u.messages.append(msg)
            lines = msg.splitlines()
            if "READY=1" in lines:
                u.ready = True
            if "WATCHDOG=1" in lines:
                u.last_ping = now
        if u.proc is None:
            return
        if u.proc.poll() is None and self.watchdog_s and u.ready and now - u.last_ping > self.watchdog_s:
            u.proc.send_signal(signal.SIGABRT)  # as systemd does; a stopped process needs SIGKILL
            try:
                u.proc.wait(1)
            except subprocess.TimeoutExpired:
                u.proc.kill()
                u.proc.wait(5)
            u.watchdog_kills += 1
        if u.proc.poll() is not None:
            if u.exited_at is None:
                u.exited_at = now
                u.ready = False
            elif now - u.exited_at >= self.restart_s:
                u.restarts += 1
                self._start(u)

    def close(self) -> None:
        for u in self.units.values():
            self._stop(u)
            u.sock.close()
            Path(u.path).unlink(missing_ok=True)
