"""Kill test: ``kill -9`` the agent process at random moments during delivery, 120 times; same result.

The agent runs as a real process (forked from ``tests/sync/zygote.py``, which has the imports done, so a
round costs milliseconds instead of half a second of Python start-up) against the real server on
loopback, while the kiosk keeps recording presses. Small batches (25 events) make the kills land at
every point of the cycle: reading the outbox, posting, after the server committed but before
``mark_sent``, inside the ``mark_sent`` transaction. Then one clean agent drains: the server holds
exactly the device's ids, each once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from sync.agent import Agent
from tests import procs
from tests.sync.helpers import device, presses

ROUNDS = 120
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_and_doubles_nothing(tmp_path, live_server):
    device_id, code = live_server.new_device("kill")
    cfg, store = device(tmp_path, live_server.url, code=code)
    setup = Agent(cfg, store=store)
    assert setup.drain(max_batches=0).error is None  # enrolled
    setup.close()
    ids = presses(store, 3000)  # a backlog to be delivered while being killed
    stop = threading.Event()

    def kiosk():  # presses keep coming during the rounds
        while not stop.is_set():
            ids.extend(presses(store, 3))
            time.sleep(0.01)

    writer = threading.Thread(target=kiosk, daemon=True)
    writer.start()
    zygote = procs.Popen([sys.executable, "-m", "tests.sync.zygote", str(cfg.source), "25"], cwd=ROOT,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    rng = random.Random(5)
    killed = 0
    mid_answer = 0  # rounds killed after the server committed but before the device marked sent
    try:
        for _ in range(ROUNDS):
            before_server = set(live_server.ids(device_id))
            zygote.stdin.write("fork\n")
            zygote.stdin.flush()
            line = zygote.stdout.readline().split()
            assert line[0] == "pid", line
            pid = int(line[1])
            time.sleep(rng.uniform(0.0, 0.12))
            os.kill(pid, signal.SIGKILL)
            status = zygote.stdout.readline().split()
            assert status[0] == "exit"
            if os.WIFSIGNALED(int(status[1])) and os.WTERMSIG(int(status[1])) == signal.SIGKILL:
                killed += 1
            sent = {r[0] for r in store._read("SELECT id FROM events WHERE sent_at IS NOT NULL")}
            if (set(live_server.ids(device_id)) - before_server) - sent:
                mid_answer += 1  # this child's last batch was committed by the server, not marked by it
    finally:
        stop.set()
        writer.join(10)
        zygote.stdin.write("quit\n")
        zygote.stdin.close()
        zygote.wait(10)
    delivered_during_kills = len(live_server.ids(device_id))
    final = Agent(cfg, store=store)
    result = final.drain()
    final.close()
    stored = live_server.ids(device_id)
    print(f"kill -9: {killed} kills, {mid_answer} between the server's commit and mark_sent, "
          f"{delivered_during_kills} of {len(ids)} delivered during the kills")
    assert killed >= 100
    assert result.ok and store.pending_count() == 0 and store.quarantined_count() == 0
    assert Counter(stored).most_common(1)[0][1] == 1
    assert sorted(stored) == sorted(ids) == sorted(store.all_ids())
    assert delivered_during_kills > 0, "the agent made progress between kills"
    assert mid_answer > 0, "some kills landed between the server's commit and the device's mark_sent"
