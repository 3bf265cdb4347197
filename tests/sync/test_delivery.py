"""sync.delivery: batch planning, verdicts, per-id settlement and the policy between attempts (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from hymy.protocol import Batch
from sync.backoff import CAP_S, UNREACHABLE_CAP_S
from sync.delivery import (
    AUTH_RETRY_S,
    ENVELOPE_BYTES,
    DeliveryPolicy,
    Outcome,
    Verdict,
    encode_batch,
    judge,
    plan_batch,
    settle,
)


@dataclass(frozen=True)
class Ev:
    id: str
    body: str


def ev(i: int, pad: int = 0) -> Ev:
    return Ev(f"id-{i}", json.dumps({"n": i, "pad": "x" * pad}))


sizes = st.lists(st.integers(0, 3000), min_size=0, max_size=80)


@given(sizes, st.integers(1, 50), st.integers(100, 40_000))
def test_plan_batch_is_a_bounded_non_empty_prefix(pads, max_events, max_bytes):
    events = [ev(i, p) for i, p in enumerate(pads)]
    batch = plan_batch(events, max_events, max_bytes)
    assert batch == events[: len(batch)]
    assert len(batch) <= max_events
    if events:
        assert batch, "never an empty batch while something is pending"
    if len(batch) > 1:
        assert len(encode_batch(batch)) <= max_bytes
    if batch and len(batch) < min(len(events), max_events):
        # it stopped because the next event would not fit
        assert len(encode_batch(events[: len(batch) + 1])) > max_bytes


def test_plan_batch_counts_utf8_bytes_not_characters():
    events = [Ev(str(i), json.dumps({"c": "ä" * 100}, ensure_ascii=False)) for i in range(10)]
    one = len(events[0].body.encode())
    batch = plan_batch(events, 500, ENVELOPE_BYTES + 3 * one + 2)
    assert len(batch) == 3


def test_encode_batch_is_the_protocol_batch(tmp_path):
    from hymy.protocol import default_store_config
    from hymy.timestamps import utcnow
    from kiosk.capture import build_response
    from kiosk.clock import ClockReading
    from kiosk.store import Store

    store = Store(tmp_path / "k.db")
    now = ClockReading(utcnow(), True, "boot", 1234)
    for mood in (1, 2, 3, 4):
        store.append(build_response(mood, "touch", now, default_store_config(), []))
    body = encode_batch(store.unsent())
    parsed = Batch.model_validate_json(body)
    assert [e.mood for e in parsed.events] == [1, 2, 3, 4]


def test_judge_maps_every_status_class():
    assert judge(Outcome.network_error("refused")) is Verdict.retry
    assert judge(Outcome.http(200, [])) is Verdict.delivered
    assert judge(Outcome.http(200, None)) is Verdict.retry  # 2xx without per-id results
    for status in (401, 403):
        assert judge(Outcome.http(status)) is Verdict.unauthorized
    assert judge(Outcome.http(413)) is Verdict.too_large
    for status in (400, 422):
        assert judge(Outcome.http(status)) is Verdict.refused
    for status in (404, 408, 409, 429, 500, 502, 503, 504):
        assert judge(Outcome.http(status)) is Verdict.retry


statuses = st.sampled_from(["accepted", "duplicate", "rejected", "weird", None])


@given(st.lists(st.tuples(st.integers(0, 30), statuses), max_size=60), st.integers(0, 25))
def test_settle_partitions_the_batch(answers, n):
    ids = [f"e{i}" for i in range(n)]
    results = [{"id": f"e{i}", "status": s, "reason": "bad"} for i, s in answers]
    s = settle(ids, results)
    sent, quarantined = set(s.sent), {i for i, _ in s.quarantined}
    assert sent.isdisjoint(quarantined) and sent.isdisjoint(s.unanswered)
    assert quarantined.isdisjoint(s.unanswered)
    assert sent | quarantined | set(s.unanswered) == set(ids)
    # only ids the server named delivered are marked sent
    delivered = {f"e{i}" for i, st_ in answers if st_ in ("accepted", "duplicate")}
    assert sent == delivered & set(ids)
    assert all(u not in ids for u in s.unknown)


def test_policy_delivered_marks_only_named_ids_and_quarantines_rejections():
    p = DeliveryPolicy(rand=lambda: 0.5)
    batch = [ev(i) for i in range(3)]
    step = p.on_outcome(batch, Outcome.http(200, [
        {"id": "id-0", "status": "accepted"}, {"id": "id-1", "status": "rejected", "reason": "mood 9 > scale"},
        {"id": "id-2", "status": "duplicate"}]))
    assert step.ok and step.mark_sent == ["id-0", "id-2"]
    assert step.quarantine == [("id-1", "mood 9 > scale")]


def test_policy_partial_answer_backs_off_and_leaves_the_rest_unsent():
    p = DeliveryPolicy(rand=lambda: 0.5)
    step = p.on_outcome([ev(0), ev(1)], Outcome.http(200, [{"id": "id-0", "status": "accepted"}]))
    assert step.mark_sent == ["id-0"] and not step.ok and step.verdict is Verdict.retry
    assert "1 of 2" in step.error


def test_policy_413_halves_until_one_then_quarantines():
    p = DeliveryPolicy(rand=lambda: 0.5)
    events = [ev(i) for i in range(500)]
    seen = []
    while True:
        batch = p.plan(events)
        seen.append(len(batch))
        step = p.on_outcome(batch, Outcome.http(413, detail="too big"))
        if step.quarantine:
            break
        assert step.wait_s == 0 and not step.mark_sent
    assert seen == [500, 250, 125, 62, 31, 15, 7, 3, 1]
    assert step.quarantine[0][0] == "id-0" and "413" in step.quarantine[0][1]


def test_policy_grows_back_after_many_good_batches():
    p = DeliveryPolicy(rand=lambda: 0.5)
    p.on_outcome([ev(i) for i in range(500)], Outcome.http(413))
    assert p.limit_events == 250
    for _ in range(50):
        b = p.plan([ev(i) for i in range(500)])
        p.on_outcome(b, Outcome.http(200, [{"id": e.id, "status": "accepted"} for e in b]))
    assert p.limit_events == 500


def test_policy_unauthorized_marks_nothing_and_waits_long():
    p = DeliveryPolicy(rand=lambda: 0.5)
    step = p.on_outcome([ev(0)], Outcome.http(401, detail="bad token"))
    assert step.verdict is Verdict.unauthorized and not step.mark_sent and not step.quarantine
    assert 0.8 * AUTH_RETRY_S <= step.wait_s <= 1.2 * AUTH_RETRY_S and p.unauthorized
    assert "not enrolled or revoked" in step.error


def test_policy_retry_honours_retry_after_and_grows():
    p = DeliveryPolicy(rand=lambda: 0.0)
    assert p.on_outcome([ev(0)], Outcome.http(503, retry_after=7)).wait_s == 7
    p = DeliveryPolicy(rand=lambda: 0.999)
    waits = [p.on_outcome([ev(0)], Outcome.network_error("refused")).wait_s for _ in range(6)]
    assert waits == sorted(waits) and waits[-1] > 30
    ok = p.on_outcome([ev(0)], Outcome.http(200, [{"id": "id-0", "status": "accepted"}]))
    assert ok.ok and p.backoff.attempt == 0


def test_policy_caps_refused_connections_short_and_server_errors_long():
    """Catch-up after an outage: a request that never reached the server waits at most 20 s; 5xx and
    429 keep the 5-minute cap and Retry-After."""
    p = DeliveryPolicy(rand=lambda: 0.999999)
    refused = [p.on_outcome([ev(0)], Outcome.network_error("connection refused", reached=False)) for _ in range(30)]
    assert all(s.verdict is Verdict.retry for s in refused)
    assert max(s.wait_s for s in refused) <= UNREACHABLE_CAP_S and refused[-1].wait_s > UNREACHABLE_CAP_S - 0.1
    overloaded = [p.on_outcome([ev(0)], Outcome.http(503)).wait_s for _ in range(30)]
    assert max(overloaded) <= CAP_S and overloaded[-1] > CAP_S - 1
    assert p.on_outcome([ev(0)], Outcome.http(429, retry_after=900)).wait_s == 900
    reset = DeliveryPolicy(rand=lambda: 0.999999)
    waits = [reset.on_outcome([ev(0)], Outcome.network_error("connection reset")).wait_s for _ in range(30)]
    assert waits[-1] > CAP_S - 1, "a reset or read timeout reached the server: the long cap"
