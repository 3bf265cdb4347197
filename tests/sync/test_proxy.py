"""The fault proxy itself: each fault does what the fault tests rely on (against a real HTTP server)."""

from __future__ import annotations

import pytest
import requests

from tests.sync.helpers import answering_server
from tests.sync.proxy import FaultProxy, FaultRates


@pytest.fixture
def upstream():
    seen: list[bytes] = []
    with answering_server(b'{"ok":true}', lambda handler, body: seen.append(body)) as port:
        yield port, seen


def _post(port):
    return requests.post(f"http://127.0.0.1:{port}/x", data=b"hello", timeout=5)


@pytest.mark.parametrize(("fault", "reaches_server", "outcome"), [
    (None, True, 200), ("drop", False, "error"), ("lose", True, "error"), ("truncate", True, "error"),
    ("burst", False, 503), ("slow", True, 200),
])
def test_each_fault(upstream, fault, reaches_server, outcome):
    port, seen = upstream
    rates = FaultRates(**({fault: 1.0} if fault else {}), slow_s=0.05)
    proxy = FaultProxy(port, rates, seed=1)
    pport = proxy.start()
    try:
        try:
            got = _post(pport).status_code
        except requests.RequestException:
            got = "error"
        assert got == outcome
        assert (seen == [b"hello"]) is reaches_server
        assert proxy.counts[fault or "ok"] == 1
        proxy.clear()
        assert _post(pport).status_code == 200
    finally:
        proxy.stop()


def test_bursts_come_in_runs(upstream):
    port, _ = upstream
    proxy = FaultProxy(port, FaultRates(burst=1.0, burst_len=3), seed=2)
    pport = proxy.start()
    try:
        codes = [_post(pport).status_code for _ in range(3)]
        proxy.rates.burst = 0.0
        codes += [_post(pport).status_code for _ in range(3)]
        assert codes == [503, 503, 503, 200, 200, 200]
    finally:
        proxy.stop()
