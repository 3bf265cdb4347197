"""POST /api/v1/responses: per-event results, idempotency, conflicts, void, follow-ups, rollups."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from server import tables as t

from .conftest import followup, press, today_local


def send(client, world, events, sid="s1", gz=False):
    body = json.dumps({"events": events}).encode()
    headers = {**world.device(sid), "Content-Type": "application/json"}
    if gz:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return client.post("/api/v1/responses", content=body, headers=headers)


def statuses(r):
    assert r.status_code == 200, r.text
    return [x["status"] for x in r.json()["results"]]


def daily(client, world, sid="s1", role="admin"):
    day = today_local("Europe/Stockholm" if sid == "s3" else "Europe/Helsinki")
    r = client.get(f"/api/v1/stores/{sid}/daily", params={"from": day, "to": day}, headers=world.user(role))
    assert r.status_code == 200, r.text
    return r.json()["days"][0]


def test_ingest_accepts_batch_and_rollups_count_it(client, world):
    events = [press(m) for m in (1, 2, 3, 4, 4)] + [press(4, flags=["repeat"])]
    assert statuses(send(client, world, events, gz=True)) == ["accepted"] * 6
    d = daily(client, world)
    assert d["n"] == 5 and d["filtered"] == 1
    assert d["counts"] == {"1": 1, "2": 1, "3": 1, "4": 2}
    assert d["happy_index"] == round((0 + 100 / 3 + 200 / 3 + 100 + 100) / 5, 1)


def test_ingest_one_bad_event_does_not_fail_the_batch(client, world):
    good = press()
    bad = press(mood=5, scale=4)  # mood outside its scale
    junk = {"type": "response", "id": "nope"}
    r = send(client, world, [good, bad, junk, "not an object"])
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["accepted", "rejected", "rejected", "rejected"]
    assert "mood 5 is outside scale 4" in res[1]["reason"]
    assert res[2]["id"] == "nope" and "id" in res[2]["reason"]
    assert daily(client, world)["n"] == 1


def test_ingest_replay_is_duplicate_and_changes_nothing(client, world, engine):
    events = [press(1), press(4), followup("0192f7c4-8b1a-7c3e-9f00-1234567890ab")]
    assert statuses(send(client, world, events)) == ["accepted"] * 3
    for _ in range(3):
        assert statuses(send(client, world, events, gz=True)) == ["duplicate"] * 3
    assert daily(client, world)["n"] == 2
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.responses)).scalar() == 2


def test_ingest_same_id_different_content_is_conflict_never_overwrite(client, world, engine):
    ev = press(1)
    send(client, world, [ev])
    changed = {**ev, "mood": 4}
    r = send(client, world, [changed])
    assert r.json()["results"][0]["status"] == "rejected"
    assert r.json()["results"][0]["reason"].startswith("conflict")
    with engine.connect() as conn:
        assert conn.execute(select(t.responses.c.mood).where(t.responses.c.id == ev["id"])).scalar() == 1


def test_ingest_same_id_twice_in_one_batch(client, world):
    ev = press(2)
    assert statuses(send(client, world, [ev, ev, {**ev, "mood": 3}])) == ["accepted", "duplicate", "rejected"]


def test_ingest_device_clock_correction_after_send_is_still_duplicate(client, world):
    wrong = datetime(2020, 1, 1, 12, tzinfo=UTC)
    ev = press(3, at=wrong, clock_synced=False)
    assert statuses(send(client, world, [ev])) == ["accepted"]
    corrected = {**ev, "pressed_at": "2026-11-23T10:00:00.000Z", "clock_corrected": True,
                 "device_pressed_at": ev["pressed_at"]}
    assert statuses(send(client, world, [corrected])) == ["duplicate"]


def test_ingest_store_comes_from_token_not_payload(client, world, engine):
    ev = press(4, store_id="s2")  # unknown field: rejected, never routed
    assert statuses(send(client, world, [ev])) == ["rejected"]
    ev = press(4)
    send(client, world, [ev], sid="s3")
    with engine.connect() as conn:
        assert conn.execute(select(t.responses.c.store_id).where(t.responses.c.id == ev["id"])).scalar() == "s3"


def test_ingest_void_moves_response_from_counted_to_filtered(client, world, engine):
    a, b = press(1), press(4)
    send(client, world, [a, b])
    assert daily(client, world)["n"] == 2
    assert statuses(send(client, world, [followup(a["id"], "void", "hold gesture")])) == ["accepted"]
    d = daily(client, world)
    assert d["n"] == 1 and d["filtered"] == 1 and d["counts"] == {"4": 1}
    with engine.connect() as conn:
        row = conn.execute(select(t.responses).where(t.responses.c.id == a["id"])).first()
    assert row.voided and row.flags == ""  # original flags kept, voided marker added


def test_ingest_void_before_its_response_arrives(client, world):
    a = press(2)
    send(client, world, [followup(a["id"], "void", "hold")])
    send(client, world, [a])
    d = daily(client, world)
    assert d["n"] == 0 and d["filtered"] == 1


def test_ingest_void_in_same_batch_and_twice(client, world):
    a = press(2)
    v1, v2 = followup(a["id"], "void", "x"), followup(a["id"], "void", "y")
    assert statuses(send(client, world, [a, v1, v2])) == ["accepted"] * 3
    d = daily(client, world)
    assert d["n"] == 0 and d["filtered"] == 1


def test_ingest_followup_counts_reasons_and_praise(client, world):
    a, b = press(1), press(4)
    send(client, world, [a, followup(a["id"], "reason", "queue"), b, followup(b["id"], "praise", "staff"),
                         followup(a["id"], "comment", "slow checkout")])
    day = today_local()
    r = client.get("/api/v1/stores/s1/followups", params={"from": day, "to": day}, headers=world.user("admin"))
    assert r.json() == [{"kind": "praise", "value": "staff", "n": 1}, {"kind": "reason", "value": "queue", "n": 1}]


def test_ingest_whole_body_errors(client, world):
    h = {**world.device("s1"), "Content-Type": "application/json"}
    r = client.post("/api/v1/responses", content=b"{not json", headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"]
    r = client.post("/api/v1/responses", content=b'{"events": 3}', headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "events"]
    r = client.post("/api/v1/responses", content=b'{"events": [], "store": "x"}', headers=h)
    assert r.status_code == 422
    r = client.post("/api/v1/responses", content=json.dumps({"events": [press()] * 501}).encode(), headers=h)
    assert r.status_code == 413
    r = client.post("/api/v1/responses", content=b"\x1f\x8b\x08garbage", headers={**h, "Content-Encoding": "gzip"})
    assert r.status_code == 400
    r = client.post("/api/v1/responses", content=gzip.compress(b'{"events": []}')[:-6],
                    headers={**h, "Content-Encoding": "gzip"})
    assert r.status_code == 400
    r = client.post("/api/v1/responses", content=b'{"events": []}', headers={**h, "Content-Encoding": "br"})
    assert r.status_code == 415
    r = client.post("/api/v1/responses", content=b" " * (256 * 1024 + 1), headers=h)
    assert r.status_code == 413


def test_ingest_gzip_bomb_is_413(client, world):
    bomb = gzip.compress(b'{"events": [' + b" " * (64 * 1024 * 1024) + b"]}", 9)
    assert len(bomb) < 300 * 1024
    r = client.post("/api/v1/responses", content=bomb,
                    headers={**world.device("s1"), "Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert r.status_code == 413


def test_ingest_needs_a_valid_token(client, world):
    assert client.post("/api/v1/responses", json={"events": []}).status_code == 401
    r = client.post("/api/v1/responses", json={"events": []}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    # a manager's API token is not a device token
    assert client.post("/api/v1/responses", json={"events": []}, headers=world.user("admin")).status_code == 401


def test_ingest_hooks_run_after_commit_and_never_fail_the_request(app, client, world):
    import threading

    seen: list[set[str]] = []
    done = threading.Event()

    def boom(engine, stores):
        raise RuntimeError("hook failure")

    def record(engine, stores):
        with engine.connect() as conn:  # the batch is committed when the hook runs
            n = conn.execute(select(func.count()).select_from(t.responses)).scalar()
        seen.append((stores, n))
        done.set()

    app.state.on_ingested.extend([boom, record])
    assert statuses(send(client, world, [press()], sid="s2")) == ["accepted"]
    assert done.wait(5)
    assert seen == [({"s2"}, 1)]
    done.clear()
    send(client, world, [press()], sid="s2")  # a second batch still works after the failing hook
    assert done.wait(5)


def test_ingest_flags_and_hours_in_store_local_time(client, world):
    # 2026-03-10 22:30 UTC is 00:30 on 2026-03-11 in Helsinki (UTC+2): the press belongs to the 11th.
    at = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)
    send(client, world, [press(4, at=at)])
    r = client.get("/api/v1/stores/s1/daily", params={"from": "2026-03-10", "to": "2026-03-11"},
                   headers=world.user("admin"))
    assert [d["n"] for d in r.json()["days"]] == [0, 1]
    h = client.get("/api/v1/stores/s1/hourly", params={"date": "2026-03-11"}, headers=world.user("admin")).json()
    assert h["hours"][0]["hour"] == "2026-03-11T00:00+02:00" and h["hours"][0]["n"] == 1
    assert timedelta(0) == timedelta(0)


# --------------------------------------------------------------------------- resends told apart by columns


def test_content_key_covers_every_field_but_the_device_correction():
    """A field added to the protocol must take part in telling a resend from a conflict."""
    from hymy.protocol import Followup, Response
    from server.event_content import CORRECTION_FIELDS, content_key
    from server.ingest import EVENT

    other = {"id": "0192f7c4-8b1a-7c3e-9f00-1234567890ac", "response_id": "0192f7c4-8b1a-7c3e-9f00-1234567890ad",
             "question_id": "q-other", "mood": 1, "scale": 5, "source": "button",
             "pressed_at": "2026-01-01T00:00:00.000Z", "clock_synced": False, "boot_id": "boot-2",
             "uptime_ms": 7, "flags": ["repeat"], "app_version": "9", "kind": "praise", "value": "other"}
    base_fu = followup("0192f7c4-8b1a-7c3e-9f00-1234567890ab")
    base_fu.update(clock_synced=True, boot_id="boot-1", uptime_ms=5)
    for model, base in ((Response, press(3)), (Followup, base_fu)):
        fields = set(model.model_fields) - {"type"} - set(CORRECTION_FIELDS)
        ev = EVENT.validate_python(base)
        key = content_key(ev, base["pressed_at"], None)
        for name in fields:
            changed = EVENT.validate_python({**base, name: other[name]})
            at = other["pressed_at"] if name == "pressed_at" else base["pressed_at"]
            assert content_key(changed, at, None) != key, f"{model.__name__}.{name} is not compared"


def test_ingest_followup_resend_after_device_correction_is_duplicate_changed_is_conflict(client, world, engine):
    a = press(1, clock_synced=False)
    fu = {**followup(a["id"], "reason", "queue", at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
          "clock_synced": False, "boot_id": "boot-1", "uptime_ms": 2000}
    assert statuses(send(client, world, [a, fu])) == ["accepted", "accepted"]
    corrected = {**fu, "pressed_at": "2026-11-23T09:30:00.000Z", "clock_corrected": True,
                 "device_pressed_at": fu["pressed_at"]}
    other_reason = {**fu, "value": "price"}
    assert statuses(send(client, world, [corrected, other_reason])) == ["duplicate", "rejected"]
    with engine.connect() as conn:
        row = conn.execute(select(t.followups).where(t.followups.c.id == fu["id"])).first()
    assert row.value == "queue" and row.pressed_at == fu["pressed_at"] and row.content_hash == ""
    assert (row.clock_synced, row.boot_id, row.uptime_ms) == (False, "boot-1", 2000)


def test_ingest_resend_of_a_deleted_comment_is_duplicate_and_stays_deleted(client, world, engine):
    from server import admin

    a = press(1)
    c = followup(a["id"], "comment", "the cashier was rude")
    send(client, world, [a, c])
    assert admin.delete_comment(engine, c["id"])
    assert statuses(send(client, world, [c])) == ["duplicate"]
    with engine.connect() as conn:
        assert conn.execute(select(t.followups.c.value).where(t.followups.c.id == c["id"])).scalar() is None


def test_ingest_rows_stored_before_0004_are_compared_by_their_hash(client, world, engine):
    """Rows from before migration 0004 carry the old content hash: a resend is still a duplicate."""
    from sqlalchemy import update

    from server.event_content import legacy_content_hash
    from server.ingest import EVENT

    a = press(2)
    fu = followup(a["id"], "reason", "queue")
    send(client, world, [a, fu])
    with engine.begin() as conn:  # as an older server stored them
        for table, ev in ((t.responses, a), (t.followups, fu)):
            conn.execute(update(table).where(table.c.id == ev["id"]).values(
                content_hash=legacy_content_hash(EVENT.validate_python(ev))))
        conn.execute(update(t.followups).where(t.followups.c.id == fu["id"]).values(
            clock_synced=None, boot_id=None, uptime_ms=None, clock_corrected=None))
    assert statuses(send(client, world, [a, fu])) == ["duplicate", "duplicate"]
    assert statuses(send(client, world, [{**a, "mood": 3}, {**fu, "value": "price"}])) == ["rejected", "rejected"]
    assert daily(client, world)["n"] == 1


def test_ingest_times_stored_canonically_and_range_checked_as_text(client, world, engine):
    same = [press(4, pressed_at="2026-11-23T10:00:00Z"), press(4, pressed_at="2026-11-23T12:00:00.000+02:00"),
            press(4, pressed_at="2026-11-23T10:00:00.000Z")]
    edges = [press(4, pressed_at="1969-12-31T23:59:59.999Z"), press(4, pressed_at="2099-12-31T23:59:59.999Z"),
             press(4, pressed_at="2100-01-01T00:00:00.000Z"), press(4, pressed_at="0001-01-01T00:00:00+01:00"),
             press(4, pressed_at="1970-01-01T00:00:00.000Z")]
    r = send(client, world, same + edges)
    assert statuses(r) == ["accepted"] * 3 + ["rejected", "accepted", "rejected", "rejected", "accepted"]
    assert "between 1970-01-01 and 2100-01-01" in r.json()["results"][3]["reason"]
    with engine.connect() as conn:
        got = conn.execute(select(t.responses.c.pressed_at).where(
            t.responses.c.id.in_([e["id"] for e in same]))).scalars().all()
    assert got == ["2026-11-23T10:00:00.000Z"] * 3


def test_ingest_reasons_in_plain_words(client, world):
    bad_id = press(4, id="0192F7C4-8B1A-7C3E-9F00-1234567890AB")
    naive = press(4, pressed_at="2026-11-23T10:00:00")
    res = send(client, world, [bad_id, naive]).json()["results"]
    assert "id: must be a lower-case UUID string" in res[0]["reason"]
    assert "pressed_at: must carry a time zone offset" in res[1]["reason"]
