"""The kiosk (Kivy, offscreen) is killed while its follow-up question is on screen, then started again.

The press is committed before the follow-up shows, so it survives the kill and is delivered once; the
follow-up never comes from that screen. A follow-up that comes after the restart for the earlier
press (the capture core in a new process) is linked to it on the server. Nothing lost, nothing twice.
"""

from __future__ import annotations

import sys
import time

import pytest

from tests import procs
from tests.e2e.system import status, wait_until

pytestmark = pytest.mark.slow

LATE_FOLLOWUP = """
import sys
from kiosk.capture import Recorder
from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.store import Store
from kiosk.storeconfig import StoreConfigCache
cfg = load_config(sys.argv[1])
with Store(cfg.store_path) as store:
    f = Recorder(store, StoreConfigCache(cfg.store_config_path), SystemClock(trust=True)).record_followup(
        sys.argv[2], "reason", "queue")
print(f.id)
"""


def test_kiosk_killed_mid_followup_press_kept_once_and_late_followup_linked(system):
    system.start_server()
    kiosk = system.new_kiosk("k1")
    system.enrol(kiosk)
    wait_until((kiosk.data_dir / "store-config.json").exists, 30, "store config received (follow-ups on)")
    system.start_kiosk(kiosk, screen=True)
    with system.logs_on_failure():
        first = kiosk.press_stored(1, timeout_s=60)  # face 1: the reason question follows
    time.sleep(1.0)  # the follow-up screen is up, waiting for an answer
    system.kill(f"{kiosk.name}-kiosk")  # power cut / crash: SIGKILL, no clean shutdown

    system.start_kiosk(kiosk, screen=True)
    second = kiosk.press_stored(4, timeout_s=60)  # the restarted kiosk records again
    out = procs.run([sys.executable, "-c", LATE_FOLLOWUP, str(kiosk.config), first], check=True,
                    capture_output=True, text=True, env=system.env()).stdout
    late = out.strip().splitlines()[-1]

    with system.logs_on_failure():
        wait_until(lambda: kiosk.pending() == 0 and len(system.followup_ids()) == 1, 30, "all delivered", 0.2)
    device = kiosk.events()
    assert [i for i, t in device if t == "response"] == [first, second]
    assert [i for i, t in device if t == "followup"] == [late]
    assert sorted(system.response_ids()) == sorted([first, second])
    assert system.query("SELECT id, response_id, kind, value FROM followups") == [(late, first, "reason", "queue")]
    assert system.query("SELECT mood FROM responses ORDER BY pressed_at") == [(1,), (4,)]
    assert status(kiosk)["quarantined"] == 0
