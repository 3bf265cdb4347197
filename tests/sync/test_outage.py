"""Outage: 10,000 presses while the server is down, then it comes back (real server, real agent loop).

Acceptance: the server holds exactly the device's 10,000 ids, the outbox drains to zero, no id twice.
The presses go through the real capture path (``kiosk.capture.Recorder``, the kiosk's own store
connection) while the agent's real loop runs in a thread and backs off. The backoff cap is 1 s here
instead of 5 minutes so the test does not wait for the production schedule.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from hymy.protocol import default_store_config
from kiosk.capture import Recorder
from kiosk.clock import SystemClock
from kiosk.store import Store
from sync.agent import Agent
from tests.sync.conftest import start_server
from tests.sync.helpers import device
from tests.sync.proxy import FaultProxy

PRESSES = 10_000


@pytest.mark.slow
def test_outage_10000_presses_then_server_returns(tmp_path):
    db = tmp_path / "server.db"
    with start_server(db) as srv:
        device_id, code = srv.new_device("outage")
        proxy = FaultProxy(int(srv.url.rsplit(":", 1)[1]))
        port = proxy.start()
        cfg, store = device(tmp_path, f"http://127.0.0.1:{port}", code=code)
        agent = Agent(cfg, store=store, backoff_base_s=0.05, backoff_cap_s=1.0, heartbeat_s=5)
        assert agent.drain(max_batches=0).error is None  # enrolled while the server was up
    # the server is down now: the proxy's upstream refuses connections
    runner = threading.Thread(target=agent.run, daemon=True)
    runner.start()
    kiosk = Store(cfg.store_path)
    recorder = Recorder(kiosk, default_store_config, SystemClock(trust=True))
    ids = [recorder.record(1 + i % 4, "button").id for i in range(PRESSES)]
    try:
        assert kiosk.pending_count() == PRESSES, "nothing is lost or sent while the server is down"
        assert agent.last_error, "the agent noticed the outage"
        with start_server(db) as srv:  # the server is back (same database, new port behind the proxy)
            proxy.upstream = ("127.0.0.1", int(srv.url.rsplit(":", 1)[1]))
            deadline = time.monotonic() + 120
            while kiosk.pending_count() and time.monotonic() < deadline:
                time.sleep(0.1)
            stored = srv.ids(device_id)
    finally:
        agent.stop()
        runner.join(30)
        agent.close()
        proxy.stop()
    assert kiosk.pending_count() == 0, "the outbox drains to zero"
    assert Counter(stored).most_common(1)[0][1] == 1, "no id twice"
    assert sorted(stored) == sorted(ids) == sorted(kiosk.all_ids())
    assert kiosk.quarantined_count() == 0
    kiosk.close()
