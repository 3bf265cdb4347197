"""The real server's limits as the agent meets them: 413 halves the batch, 429 + Retry-After is obeyed;
and a store file replaced on disk (the kiosk's corrupt-store recovery) is reopened."""

from __future__ import annotations

import os

from kiosk.store import Store
from sync.agent import Agent
from sync.delivery import Verdict
from tests.sync.conftest import start_server
from tests.sync.helpers import device, presses


def test_413_from_a_stricter_server_halves_the_batch_until_it_fits(tmp_path):
    with start_server(tmp_path / "server.db", max_batch_events=100) as srv:
        device_id, code = srv.new_device()
        cfg, store = device(tmp_path, srv.url, code=code)
        agent = Agent(cfg, store=store)
        ids = presses(store, 700, followups=False)
        result = agent.drain()
        assert result.ok and result.quarantined == 0
        assert agent.policy.limit_events <= 100  # 500 -> 250 -> 125 -> 62
        assert sorted(srv.ids(device_id)) == sorted(ids)
        agent.close()


def test_429_retry_after_is_a_floor_on_the_wait(tmp_path):
    from server.testing import clear_of_minute_end

    clear_of_minute_end()  # the server's limits count per wall-clock minute
    with start_server(tmp_path / "server.db", device_rate_per_min=3) as srv:
        device_id, code = srv.new_device()
        cfg, store = device(tmp_path, srv.url, code=code)
        agent = Agent(cfg, store=store, max_events=1, backoff_base_s=0.001, backoff_cap_s=0.001)
        assert agent.drain(max_batches=0).error is None
        presses(store, 10, followups=False)
        steps = []
        for _ in range(6):
            step = agent.send_batch()
            steps.append(step)
            if step.verdict is Verdict.retry:
                break
        last = steps[-1]
        assert last.verdict is Verdict.retry and "429" in last.error
        assert last.wait_s >= 1.0, "Retry-After (seconds until the window resets) beats the 1 ms backoff cap"
        assert store.pending_count() == 10 - sum(len(s.mark_sent) for s in steps)
        agent.close()


def test_store_replaced_on_disk_is_reopened(tmp_path, live_server):
    device_id, code = live_server.new_device()
    cfg, store = device(tmp_path, live_server.url, code=code)
    agent = Agent(cfg, store=store, heartbeat_s=3600)
    assert agent.drain(max_batches=0).error is None
    first = presses(store, 3)
    assert agent.drain().ok
    # the kiosk found the file corrupt, moved it aside and started a fresh one (new inode)
    os.rename(cfg.store_path, str(cfg.store_path) + ".corrupt-test")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(cfg.store_path) + suffix):
            os.rename(str(cfg.store_path) + suffix, str(cfg.store_path) + ".corrupt-test" + suffix)
    fresh = Store(cfg.store_path)
    second = presses(fresh, 4)
    for _ in range(5):
        agent.tick()
    assert fresh.pending_count() == 0
    assert sorted(live_server.ids(device_id)) == sorted(first + second)
    agent.close()
    fresh.close()
