"""The server is SIGKILLed in the middle of a delivery and started again: every event arrives once."""

from __future__ import annotations

import sys
import time

import pytest

from tests import procs
from tests.e2e.system import status, wait_until

pytestmark = pytest.mark.slow


def test_server_killed_and_restarted_during_delivery_everything_arrives_once(system):
    system.start_server()
    kiosk = system.new_kiosk("k1")
    system.start_kiosk(kiosk)
    system.enrol(kiosk)
    system.stop(f"{kiosk.name}-sync")  # a backlog builds up while the agent is off (e.g. no network)

    # a backlog of several days of presses through the real capture path, plus live button presses
    procs.run([sys.executable, "-m", "hymy", "simulate", "--config", str(kiosk.config), "--days", "7",
               "--rate", "60", "--seed", "5"], check=True, capture_output=True, env=system.env())
    for button in (1, 2, 3, 4):
        kiosk.press_stored(button)
    backlog = len(kiosk.events())
    assert backlog > 3000, backlog

    before = len(system.response_ids())
    system.start_sync(kiosk)
    # kill the server while the backlog is on its way: some events stored, most not yet
    wait_until(lambda: len(system.response_ids()) > before, 30, "delivery started", 0.01)
    system.kill("server")
    delivered_at_kill = len(system.response_ids()) + len(system.followup_ids())
    assert delivered_at_kill < backlog, "the delivery finished before the kill; make the backlog bigger"

    for button in (4, 3):  # presses while the server is down are stored on the kiosk
        kiosk.press_stored(button)
    time.sleep(1.0)  # the agent meets a refused connection and backs off
    system.start_server()
    with system.logs_on_failure():
        wait_until(lambda: kiosk.pending() == 0, 90, "backlog delivered after the restart", 0.3)

    device = kiosk.events()
    responses = system.response_ids()
    followups = system.followup_ids()
    assert len(device) == backlog + 2
    assert sorted(responses + followups) == sorted(i for i, _ in device)  # nothing lost, nothing twice
    assert sorted(responses) == sorted(i for i, t in device if t == "response")
    assert status(kiosk)["quarantined"] == 0
    print(f"backlog {backlog} events; {delivered_at_kill} on the server when it was killed")
