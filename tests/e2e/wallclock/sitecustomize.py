"""Test-only: a wrong wall clock for a whole kiosk or sync-agent process (tests/e2e/test_clock.py).

Put this directory on ``PYTHONPATH`` and set ``HYMY_E2E_WALL_OFFSET_FILE``: Python imports this module
at start-up, before any Hymy module, and ``hymy.timestamps.utcnow`` (the one wall-clock source of the
kiosk and the sync agent) becomes the real wall clock plus the seconds written in that file, read at
every call, so the test can move the clock while the process runs. Monotonic time and
CLOCK_BOOTTIME (uptime) are untouched, as on a Pi whose wall clock is set by NTP.

Why not libfaketime: Debian bookworm's 0.9.10 makes Python's ``time.sleep`` fail with EINVAL when
monotonic time is left unfaked (FAKETIME_DONT_FAKE_MONOTONIC=1), and faking it shifts CLOCK_BOOTTIME
by the same jump, which is exactly what the correction must not see.
"""

import os

_path = os.environ.get("HYMY_E2E_WALL_OFFSET_FILE")
if _path:
    from datetime import timedelta

    import hymy.timestamps as _ts

    _real = _ts.utcnow

    def utcnow():
        try:
            with open(_path, encoding="ascii") as f:
                offset = float(f.read().strip() or 0)
        except (OSError, ValueError):
            offset = 0.0
        return _real() + timedelta(seconds=offset)

    _ts.utcnow = utcnow
