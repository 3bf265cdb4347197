"""Clock unsynced at boot, then synced: every press ends up within 2 s of the true time on the server.

The kiosk and its sync agent run with ``device.clock = "timesyncd"`` (synced once systemd-timesyncd's
flag file exists; here a file the test creates) and a wall clock three days slow (tests/e2e/wallclock:
the wall clock of those two processes only; their CLOCK_BOOTTIME is the real one). Both ways a press
is corrected are exercised:

- press A is sent while unsynced, with the wrong time; after the sync, the server corrects it from
  the heartbeat (boot id + uptime) the agent owes from the sync on and sends as soon as the server
  takes its presses again (not at its regular 60 s one);
- press B is recorded unsynced while the server is down; after the sync the agent corrects it on the
  device before it is sent;
- press C comes after the sync and needs no correction.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hymy.timestamps import parse_ts
from tests.e2e.system import System, status, wait_until

pytestmark = pytest.mark.slow

WALLCLOCK = str(Path(__file__).resolve().parent / "wallclock")
SLOW_S = 3 * 86400


def test_clock_unsynced_at_boot_then_synced_timestamps_corrected_within_2_s(tmp_path):
    system = System(tmp_path / "sys")
    flag = tmp_path / "timesync-synchronized"
    offset = tmp_path / "wall-offset"
    offset.write_text(str(-SLOW_S))
    env = {"PYTHONPATH": WALLCLOCK, "HYMY_E2E_WALL_OFFSET_FILE": str(offset)}
    try:
        system.start_server()
        kiosk = system.new_kiosk("k1", clock="timesyncd", extra_device=f'clock_sync_file = "{flag}"')
        system.start_sync(kiosk, **env)
        system.start_kiosk(kiosk, **env)
        wait_until(lambda: status(kiosk)["enrolment"] == "enrolled", 60, "kiosk enrolled")

        truth = {}
        a = kiosk.press_stored(4)
        truth[a] = datetime.now(UTC)
        wait_until(lambda: a in system.response_ids(), 15, "unsynced press A delivered")
        (pressed, synced), = system.query("SELECT pressed_at, clock_synced FROM responses WHERE id = ?", a)
        assert not synced and abs((parse_ts(pressed) - truth[a]).total_seconds() + SLOW_S) < 5  # 3 days off

        system.kill("server")
        b = kiosk.press_stored(2)
        truth[b] = datetime.now(UTC)

        # NTP syncs: the wall clock jumps to the truth and timesyncd touches its flag file
        offset.write_text("0")
        flag.touch()
        time.sleep(6)  # the agent looks at the clock every 5 s and corrects unsent presses then
        system.start_server()
        c = kiosk.press_stored(3)
        truth[c] = datetime.now(UTC)
        try:
            wait_until(lambda: kiosk.pending() == 0, 60, "B and C delivered", 0.2)
            # A was sent before the sync: the server corrects it from the heartbeat the agent owes since the
            # sync, sent once B and C got through (the regular one would come up to 60 s later)
            wait_until(lambda: system.query("SELECT server_corrected_at FROM responses WHERE id = ?", a)[0][0],
                       15, "server corrected A from a heartbeat", 0.5)
        except AssertionError:
            print(system.logs())
            raise

        rows = {r[0]: r[1:] for r in system.query(
            "SELECT id, pressed_at, clock_synced, clock_corrected, device_pressed_at, server_corrected_at "
            "FROM responses")}
        assert set(rows) == {a, b, c}
        for rid, when in truth.items():
            error = abs((parse_ts(rows[rid][0]) - when).total_seconds())
            assert error < 2, (rid, rows[rid], when, error)
        assert rows[b][2] and rows[b][3] is not None  # corrected on the device; its wrong clock kept for audit
        assert abs((parse_ts(rows[b][3]) - truth[b]).total_seconds() + SLOW_S) < 5
        assert rows[c][1] and not rows[c][2]  # recorded synced: nothing to correct
    finally:
        system.stop_all()
