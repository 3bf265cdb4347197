"""sync.heartbeat: CPU temperature from sysfs when readable, disk free, the message itself."""

from __future__ import annotations

from hymy.timestamps import utcnow
from kiosk.clock import ClockReading
from sync.heartbeat import build_heartbeat, cpu_temp_c, disk_free_mb


def test_cpu_temp_reads_millidegrees_or_none(tmp_path):
    zone = tmp_path / "temp"
    zone.write_text("48312\n")
    assert cpu_temp_c(zone) == 48.3
    zone.write_text("garbage")
    assert cpu_temp_c(zone) is None
    assert cpu_temp_c(tmp_path / "missing") is None


def test_heartbeat_carries_clock_backlog_and_health(tmp_path):
    now = utcnow()
    beat = build_heartbeat(clock=ClockReading(now, False, "boot-1", 4242), pending=7, oldest_pending_s=12.5,
                           quarantined=1, last_error="x" * 900, disk_mb=disk_free_mb(tmp_path), temp_c=None,
                           config_etag='"abc"')
    doc = beat.model_dump(mode="json")
    assert doc["boot_id"] == "boot-1" and doc["uptime_ms"] == 4242 and doc["clock_synced"] is False
    assert doc["pending"] == 7 and doc["quarantined"] == 1 and len(doc["last_error"]) == 500
    assert doc["disk_free_mb"] > 0 and doc["config_etag"] == '"abc"' and doc["device_time"].endswith("Z")
