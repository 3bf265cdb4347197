"""The heartbeat: fleet health and the clock data the server corrects unsynced timestamps with.

Sent every ``HEARTBEAT_S`` (60 s). ``build_heartbeat`` is pure over its inputs; ``cpu_temp_c`` and
``disk_free_mb`` read the system and return None where they cannot (not a Pi, no thermal zone).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hymy import __version__
from hymy.protocol import Heartbeat
from kiosk.clock import ClockReading

#: Seconds between heartbeats (and config pulls).
HEARTBEAT_S = 60.0
THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")


def cpu_temp_c(path: Path = THERMAL_ZONE) -> float | None:
    """The SoC temperature in °C from the kernel (millidegrees in sysfs), or None when unreadable."""
    try:
        return round(int(path.read_text().strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


def disk_free_mb(path: Path) -> float | None:
    """Free space in MiB on the file system holding ``path``, or None."""
    try:
        return round(shutil.disk_usage(path).free / 2**20, 1)
    except OSError:
        return None


def build_heartbeat(*, clock: ClockReading, pending: int, oldest_pending_s: float | None, quarantined: int,
                    last_error: str | None, disk_mb: float | None, temp_c: float | None,
                    config_etag: str | None, store_recoveries: int = 0, app_version: str = __version__) -> Heartbeat:
    """The heartbeat message from already gathered facts. ``store_recoveries`` is how many damaged
    stores were moved aside on the device and are still kept there (``kiosk.store.recovery.evidence``)."""
    return Heartbeat(
        app_version=app_version, boot_id=clock.boot_id, uptime_ms=clock.uptime_ms, device_time=clock.wall,
        clock_synced=clock.synced, pending=pending, oldest_pending_s=oldest_pending_s, quarantined=quarantined,
        last_error=last_error[:500] if last_error else None, disk_free_mb=disk_mb, cpu_temp_c=temp_c,
        config_etag=config_etag[:200] if config_etag else None, store_recoveries=store_recoveries,
    )
