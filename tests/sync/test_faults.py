"""Faults between agent and server (the fault proxy on loopback, a real server behind it).

Dropped connections, lost answers after the server committed, truncated answers, 5xx bursts, slow
answers, and answers slower than the client's read timeout (the server commits, the client gives up):
the final server set equals the device set, with no id twice.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from kiosk.store import Store
from sync.agent import Agent
from sync.client import Client
from tests.sync.helpers import device, presses
from tests.sync.proxy import FaultProxy, FaultRates


@pytest.mark.slow
def test_faults_never_lose_or_double_an_event(tmp_path, live_server):
    device_id, code = live_server.new_device("faults")
    rates = FaultRates(drop=0.10, lose=0.15, truncate=0.05, burst=0.04, slow=0.10, slow_s=0.4, burst_len=3)
    proxy = FaultProxy(int(live_server.url.rsplit(":", 1)[1]), rates, seed=20261123)
    port = proxy.start()
    url = f"http://127.0.0.1:{port}"
    cfg, store = device(tmp_path, url, code=code)
    # read timeout 0.3 s: every "slow" answer (0.4 s) becomes a client timeout after the server committed
    client = Client(url, read_timeout=0.3)
    agent = Agent(cfg, store=store, client=client, max_events=40, backoff_base_s=0.01, backoff_cap_s=0.1,
                  heartbeat_s=0.5, trickle_gap_s=0.05)
    for _ in range(50):  # enrolment itself may hit a fault; it is retried
        if agent.drain(max_batches=0).error is None:
            break
    assert client.has_token
    runner = threading.Thread(target=agent.run, daemon=True)
    runner.start()
    kiosk = Store(cfg.store_path)
    ids: list[str] = []
    try:
        for _ in range(60):  # presses keep coming while the faults happen
            ids += presses(kiosk, 25)
            time.sleep(0.03)
        deadline = time.monotonic() + 60
        while kiosk.pending_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        if kiosk.pending_count():  # settle: no more faults
            proxy.clear()
            kiosk.set_meta("sync_requested_at", "settle")
            deadline = time.monotonic() + 30
            while kiosk.pending_count() and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        agent.stop()
        runner.join(30)
        agent.close()
        proxy.stop()
    stored = live_server.ids(device_id)
    assert kiosk.pending_count() == 0 and kiosk.quarantined_count() == 0
    assert Counter(stored).most_common(1)[0][1] == 1
    assert sorted(stored) == sorted(ids) == sorted(kiosk.all_ids())
    print("proxy:", dict(proxy.counts))
    for fault in ("drop", "lose", "truncate", "burst", "slow", "ok"):
        assert proxy.counts[fault] > 0, f"fault {fault} never happened: {proxy.counts}"
    kiosk.close()
