"""The work after a batch (alert evaluation) runs on one worker: no thread per batch, at most one
evaluation of a store in flight, batches arriving meanwhile folded into the next evaluation, the worker
stopped with the app; and the Prometheus figures a request leaves behind."""

from __future__ import annotations

import re
import threading

from fastapi.testclient import TestClient

from server.app import create_app

from .conftest import World, press
from .test_ingest import send, statuses


def test_batches_meanwhile_fold_into_one_next_evaluation_on_one_worker(settings):
    app = create_app(settings)
    calls: list[set[str]] = []
    busy = 0
    most = 0
    first_started, release, second_done = threading.Event(), threading.Event(), threading.Event()
    lock = threading.Lock()

    def hook(engine, stores):
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
            calls.append(set(stores))
        first_started.set()
        release.wait(10)  # the first evaluation is slow: every batch below arrives while it runs
        with lock:
            busy -= 1
        if len(calls) == 2:
            second_done.set()

    app.state.on_ingested.append(hook)
    with TestClient(app) as client:
        world = World(app.state.engine, client)
        threads_before = threading.active_count()
        assert statuses(send(client, world, [press()], sid="s1")) == ["accepted"]
        assert first_started.wait(10)
        for sid in ("s1", "s2", "s1", "s3", "s2", "s1"):
            assert statuses(send(client, world, [press()], sid=sid)) == ["accepted"]
        # no thread started per batch: at most the one worker beside the ones that were there
        assert threading.active_count() <= threads_before + 1
        release.set()
        assert second_done.wait(10)
        with lock:
            assert calls == [{"s1"}, {"s1", "s2", "s3"}]  # six batches, one evaluation of each store
            assert most == 1  # never two evaluations at once
    worker = [t for t in threading.enumerate() if t.name == "hymy-after-ingest"]
    assert worker == [] or not worker[0].is_alive()  # stopped with the app's lifespan
    app.state.engine.dispose()


def test_a_failing_hook_neither_fails_the_request_nor_stops_the_worker(settings):
    app = create_app(settings)
    seen, done = [], threading.Event()

    def boom(engine, stores):
        raise RuntimeError("hook failure")

    def record(engine, stores):
        seen.append(stores)
        done.set()

    app.state.on_ingested.extend([boom, record])
    with TestClient(app) as client:
        world = World(app.state.engine, client)
        for _ in range(2):
            done.clear()
            assert statuses(send(client, world, [press()], sid="s2")) == ["accepted"]
            assert done.wait(10)
    assert seen == [{"s2"}, {"s2"}]
    app.state.engine.dispose()


def _value(text: str, name: str, labels: str = "") -> float:
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    assert m, f"{name}{labels} not in /metrics"
    return float(m.group(1))


def test_metrics_have_request_latency_by_route_template_and_ingest_histograms(client, world):
    assert statuses(send(client, world, [press(), press(), press()])) == ["accepted"] * 3
    client.get("/api/v1/stores/s1/daily", params={"from": "2026-01-01", "to": "2026-01-02"},
               headers=world.user("admin"))
    client.get("/no/such/page/12345")
    text = client.get("/metrics").text
    # the latency histogram of the batch's route, by its template
    assert _value(text, "hymy_http_request_seconds_count", '{route="/api/v1/responses"}') == 1
    assert _value(text, "hymy_http_request_seconds_count", '{route="/api/v1/stores/{store_id}/daily"}') == 1
    assert "/api/v1/stores/s1/daily" not in text and "12345" not in text  # raw paths never become labels
    assert _value(text, "hymy_http_requests_total", '{method="GET",route="other",status="404"}') == 1
    # one batch of three events, its time
    assert _value(text, "hymy_ingest_batch_seconds_count") == 1
    assert _value(text, "hymy_ingest_batch_seconds_sum") > 0
    assert _value(text, "hymy_ingest_batch_events_count") == 1
    assert _value(text, "hymy_ingest_batch_events_sum") == 3
    assert _value(text, "hymy_ingest_batch_events_bucket", '{le="2.0"}') == 0
    assert _value(text, "hymy_ingest_batch_events_bucket", '{le="5.0"}') == 1
