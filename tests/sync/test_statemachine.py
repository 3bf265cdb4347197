"""Hypothesis state machine of delivery against the REAL server (Uvicorn on loopback, behind the fault proxy).

Rules: presses, a normal send, a send whose answer is lost after the server committed, a send that
never reaches the server, a 5xx, an agent crash and restart (all in-memory state lost, sometimes with
another batch size), a duplicate delivery of already delivered events, and a server restart.
Invariant after every step: the server's set of ids for this device is a subset of the device's set
(nothing invented, nothing from elsewhere), each stored once. When settled (faults off, drained): equal.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from kiosk.store import Store
from sync.agent import Agent
from sync.client import Client
from sync.delivery import encode_batch
from sync.enrolment import read_token
from tests.sync.conftest import start_server
from tests.sync.helpers import device, presses
from tests.sync.proxy import FaultProxy, FaultRates


class ServerBox:
    """One real server for all examples, restartable on the same database; a proxy with a stable port."""

    def __init__(self, root: Path):
        self.db = root / "server.db"
        self._cm = None
        self.handle = None
        self.restarts = 0
        self._start()
        self.proxy = FaultProxy(self._port())
        self.port = self.proxy.start()

    def _port(self) -> int:
        return int(self.handle.url.rsplit(":", 1)[1])

    def _start(self) -> None:
        self._cm = start_server(self.db)
        self.handle = self._cm.__enter__()

    def restart(self) -> None:
        self._cm.__exit__(None, None, None)
        self._start()
        self.proxy.upstream = ("127.0.0.1", self._port())
        self.restarts += 1

    def close(self) -> None:
        self.proxy.stop()
        self._cm.__exit__(None, None, None)


class DeliveryMachine(RuleBasedStateMachine):
    box: ServerBox
    root: Path

    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(dir=self.root))
        self.device_id, code = self.box.handle.new_device("sm")
        self.box.proxy.clear()
        self.cfg, self.store = device(self.dir, f"http://127.0.0.1:{self.box.port}", code=code)
        self.max_events = 500
        self.agent = self._agent()
        assert self.agent.drain(max_batches=0).error is None
        self.ids: list[str] = []

    def _agent(self) -> Agent:
        return Agent(self.cfg, store=self.store, max_events=self.max_events, backoff_base_s=0.001,
                     backoff_cap_s=0.001, heartbeat_s=3600)

    def _send_with(self, rates: FaultRates | None) -> None:
        self.box.proxy.rates = rates or FaultRates()
        try:
            self.agent.send_batch()
        finally:
            self.box.proxy.clear()

    def server_ids(self) -> list[str]:
        return self.box.handle.ids(self.device_id)

    @rule(n=st.integers(1, 30))
    def press(self, n):
        self.ids += presses(self.store, n, followups=n % 3 == 0)

    @rule()
    def send(self):
        self._send_with(None)

    @rule()
    def send_but_the_answer_is_lost(self):
        self._send_with(FaultRates(lose=1.0))

    @rule()
    def send_but_the_connection_drops(self):
        self._send_with(FaultRates(drop=1.0))

    @rule()
    def send_into_a_5xx(self):
        self._send_with(FaultRates(burst=1.0, burst_len=1))

    @rule(max_events=st.sampled_from([1, 7, 500]))
    def crash_and_restart(self, max_events):
        # the process dies: its connections close, every in-memory state is gone
        self.agent.client.close()
        self.store.close()
        self.store = Store(self.cfg.store_path)
        self.max_events = max_events
        self.agent = self._agent()

    @rule()
    def duplicate_delivery(self):
        rows = self.store._read("SELECT seq, id, type, body FROM events WHERE sent_at IS NOT NULL LIMIT 50")
        if not rows:
            return
        from kiosk.store import StoredEvent

        batch = [StoredEvent(*r) for r in rows]
        client = Client(self.box.handle.url, read_token(self.cfg.token_path))
        outcome = client.post_batch(encode_batch(batch))
        client.close()
        assert outcome.status == 200
        assert {r["status"] for r in outcome.results} == {"duplicate"}

    @rule(roll=st.integers(0, 3))
    def server_restart(self, roll):
        if roll == 0:  # a restart costs ~0.2 s: keep it to about one step in 40
            self.box.restart()

    @invariant()
    def server_set_is_within_device_set(self):
        stored = self.server_ids()
        assert set(stored) <= set(self.ids)
        assert not stored or Counter(stored).most_common(1)[0][1] == 1

    def teardown(self):
        try:
            self.box.proxy.clear()
            result = self.agent.drain()
            assert result.ok, result.error
            assert sorted(self.server_ids()) == sorted(self.ids), "equal when settled"
            assert self.store.pending_count() == 0
        finally:
            with contextlib.suppress(Exception):
                self.agent.close()
            self.store.close()
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.mark.slow
def test_delivery_state_machine(tmp_path):
    DeliveryMachine.root = tmp_path
    DeliveryMachine.box = ServerBox(tmp_path)
    try:
        run_state_machine_as_test(DeliveryMachine, settings=settings(
            max_examples=20, stateful_step_count=25, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    finally:
        print(f"server restarts: {DeliveryMachine.box.restarts}")
        DeliveryMachine.box.close()
