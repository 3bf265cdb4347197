"""systemd's service notification protocol (sd_notify): READY=1, WATCHDOG=1, STATUS=...

The kiosk and sync units are ``Type=notify`` with ``WatchdogSec``: each process says READY once its
main loop runs and pings WATCHDOG from that loop, so a hung UI or agent is restarted. Outside systemd
(no ``NOTIFY_SOCKET``) every call does nothing.

Why not a library: ``sdnotify`` on PyPI is unmaintained since 2017 and ``systemd-python`` needs
libsystemd headers to build on the Pi; the protocol is one datagram on a Unix socket.
"""

from __future__ import annotations

import os
import socket
import time


def _address() -> str | None:
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return None
    return "\0" + addr[1:] if addr.startswith("@") else addr


def notify(state: str) -> bool:
    """Send one notification (``"READY=1"``, ``"STATUS=syncing"``...); False when not under systemd."""
    addr = _address()
    if addr is None:
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.sendto(state.encode("utf-8"), addr)
        except OSError:
            return False
    return True


def ready(status: str | None = None) -> bool:
    return notify("READY=1" + (f"\nSTATUS={status}" if status else ""))


def status(text: str) -> bool:
    return notify(f"STATUS={text}")


def stopping() -> bool:
    return notify("STOPPING=1")


def watchdog_interval() -> float | None:
    """Seconds between watchdog pings the service manager expects (half of WatchdogSec), or None."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    try:
        return int(usec) / 2_000_000
    except ValueError:
        return None


class Watchdog:
    """Call ``kick()`` from the real main loop; it pings at most every half WatchdogSec."""

    def __init__(self) -> None:
        self.interval = watchdog_interval()
        self._last = 0.0

    def kick(self) -> bool:
        if self.interval is None:
            return False
        now = time.monotonic()
        if now - self._last < self.interval:
            return False
        self._last = now
        return notify("WATCHDOG=1")
