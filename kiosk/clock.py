"""Where a press's time comes from: wall clock, whether it is NTP-synced, boot id and uptime.

A Raspberry Pi before the Pi 5 has no real-time clock: until NTP syncs, the wall clock is wrong.
We record ``clock_synced``, ``boot_id`` and ``uptime_ms`` (CLOCK_BOOTTIME, which keeps counting in
suspend) so presses can be corrected once the clock syncs. Linux only for the kernel checks;
elsewhere the clock is trusted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hymy.timestamps import utcnow

BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")
TIME_ERROR = 5  # adjtimex's answer while the kernel clock is unsynchronised


@dataclass(frozen=True, slots=True)
class ClockReading:
    """One look at the clocks, taken at the moment of a press."""

    wall: datetime
    synced: bool
    boot_id: str
    uptime_ms: int


class _Timex(ctypes.Structure):
    _fields_ = [(n, ctypes.c_long) for n in ("modes_", "offset", "freq", "maxerror", "esterror")] + [
        ("status", ctypes.c_int)
    ] + [(n, ctypes.c_long) for n in ("constant", "precision", "tolerance", "time_sec", "time_usec", "tick",
                                       "ppsfreq", "jitter")] + [("shift", ctypes.c_int)] + [
        (n, ctypes.c_long) for n in ("stabil", "jitcnt", "calcnt", "errcnt", "stbcnt")
    ] + [("tai", ctypes.c_int), ("_pad", ctypes.c_int * 11)]


@functools.cache
def _adjtimex():
    """libc's adjtimex, looked up once: ``find_library`` runs ``ldconfig -p`` in a subprocess, far too
    slow for every press. None where there is no such call."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.adjtimex
    except (OSError, AttributeError):
        return None


def kernel_clock_synced() -> bool:
    """What ``timedatectl``'s NTPSynchronized reports: adjtimex() is not TIME_ERROR.

    Returns True where the call is unavailable (non-Linux development machines).
    """
    adjtimex = _adjtimex()
    if adjtimex is None:
        return True
    tx = _Timex()
    return adjtimex(ctypes.byref(tx)) != TIME_ERROR


def read_boot_id() -> str:
    """The kernel's id of this boot; a random per-process one where there is none."""
    try:
        return BOOT_ID_PATH.read_text().strip()
    except OSError:
        return _FALLBACK_BOOT_ID


_FALLBACK_BOOT_ID = str(uuid.uuid4())


def uptime_ms() -> int:
    """Milliseconds since boot (CLOCK_BOOTTIME where the platform has it, else monotonic)."""
    clock = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
    return int(time.clock_gettime(clock) * 1000)


class SystemClock:
    """The real clocks. ``trust=True`` treats the wall clock as synced (config ``device.clock = "trust"``);
    with ``sync_file`` (``device.clock = "timesyncd"``) it is synced once that file exists, else when the
    kernel says so."""

    def __init__(self, trust: bool = False, sync_file: Path | None = None):
        self.trust = trust
        self.sync_file = sync_file
        self.boot_id = read_boot_id()

    @classmethod
    def for_config(cls, device) -> SystemClock:
        """The clock a ``kiosk.config.DeviceSection`` asks for (``clock``: kernel, trust or timesyncd)."""
        return cls(trust=device.clock == "trust",
                   sync_file=device.clock_sync_file if device.clock == "timesyncd" else None)

    def synced(self) -> bool:
        if self.trust:
            return True
        if self.sync_file is not None:
            return self.sync_file.exists()
        return kernel_clock_synced()

    def __call__(self) -> ClockReading:
        return ClockReading(wall=utcnow(), synced=self.synced(), boot_id=self.boot_id, uptime_ms=uptime_ms())
