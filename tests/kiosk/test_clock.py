"""Where a press's time comes from: wall clock, kernel NTP state, boot id, uptime."""

from __future__ import annotations

import ctypes
import time
from datetime import UTC, datetime

from kiosk import clock
from kiosk.clock import ClockReading, SystemClock, kernel_clock_synced, read_boot_id, uptime_ms


def test_reading_is_utc_aware_with_boot_id_and_uptime():
    r = SystemClock(trust=True)()
    assert isinstance(r, ClockReading)
    assert r.wall.tzinfo == UTC and abs((datetime.now(UTC) - r.wall).total_seconds()) < 5
    assert r.synced is True and r.boot_id == read_boot_id() and r.uptime_ms > 0


def test_boot_id_is_the_kernels_and_stable():
    if clock.BOOT_ID_PATH.exists():
        assert read_boot_id() == clock.BOOT_ID_PATH.read_text().strip()
    assert read_boot_id() == read_boot_id()


def test_uptime_is_monotonic_in_milliseconds():
    a = uptime_ms()
    time.sleep(0.02)
    b = uptime_ms()
    assert 15 <= b - a < 2000


def test_kernel_clock_check_answers_a_bool_and_looks_up_libc_once():
    """adjtimex is looked up once: find_library runs a subprocess, far too slow for every press."""
    assert isinstance(kernel_clock_synced(), bool)
    for _ in range(20):
        kernel_clock_synced()
    assert clock._adjtimex.cache_info().misses == 1


def test_timex_struct_matches_the_kernel_abi():
    """glibc's struct timex is 208 bytes on 64-bit Linux (and 128 on 32-bit ARM)."""
    assert ctypes.sizeof(clock._Timex) == (208 if ctypes.sizeof(ctypes.c_long) == 8 else 128)


def test_untrusted_clock_follows_the_kernel():
    assert SystemClock(trust=False).synced() == kernel_clock_synced()
    assert SystemClock(trust=True).synced() is True


def test_timesyncd_clock_is_synced_once_the_flag_file_exists(tmp_path):
    from kiosk.clock import SystemClock
    from kiosk.config import parse_config

    flag = tmp_path / "synchronized"
    cfg = parse_config({"device": {"data_dir": str(tmp_path), "clock": "timesyncd", "clock_sync_file": str(flag)}})
    clock = SystemClock.for_config(cfg.device)
    assert clock().synced is False
    flag.touch()
    assert clock().synced is True
    flag.unlink()
    assert clock.synced() is False
    assert SystemClock.for_config(parse_config({"device": {"clock": "trust"}}).device).synced() is True
