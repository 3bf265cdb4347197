"""One id is one event: a follow-up cannot take a response's id (or the reverse), in one batch, across
batches and when two server instances store them at the same moment (issue 14.6)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from server import admin
from server import tables as t
from server.db import make_engine
from server.testing import run_server_process

from .conftest import followup, press

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def post(client, world, events, sid="s1") -> list[dict]:
    r = client.post("/api/v1/responses", json={"events": events}, headers=world.device(sid))
    assert r.status_code == 200, r.text
    return r.json()["results"]


def n_on(client, world, day="2026-11-23") -> int:
    return client.get("/api/v1/stores/s1/daily", params={"from": day, "to": day},
                      headers=world.user("admin")).json()["total"]["n"]


def test_a_follow_up_with_a_responses_id_is_rejected_naming_id_and_the_reverse(client, world, engine):
    a, b = press(4, at=AT), press(1, at=AT)
    assert [r["status"] for r in post(client, world, [a, b])] == ["accepted", "accepted"]
    taken = {**followup(b["id"], "reason", "queue", at=AT), "id": a["id"]}
    (r,) = post(client, world, [taken])
    assert r["status"] == "rejected" and r["reason"].startswith("id: ") and "response" in r["reason"]
    fu = followup(a["id"], "praise", "staff", at=AT)
    assert post(client, world, [fu])[0]["status"] == "accepted"
    (r,) = post(client, world, [press(2, at=AT, id=fu["id"])])
    assert r["status"] == "rejected" and r["reason"].startswith("id: ") and "follow-up" in r["reason"]
    # and in one batch: the first event with the id wins, the other is rejected the same way
    c = press(3, at=AT)
    same = post(client, world, [c, {**followup(c["id"], "comment", "ok", at=AT), "id": c["id"]}])
    assert same[0]["status"] == "accepted" and same[1]["status"] == "rejected"
    assert same[1]["reason"].startswith("id: ") and "response" in same[1]["reason"]
    # what a user sees: one export row per id, the counts of the accepted events only
    csv = client.get("/api/v1/export/responses.csv", params={"store": "s1", "from": "2026-11-23", "to": "2026-11-23"},
                     headers=world.user("admin")).text
    for ev in (a, b, c, fu):
        assert csv.count(ev["id"]) == 1 + (ev is a), ev  # a: its own row and the praise that refers to it
    assert n_on(client, world) == 3
    reasons = client.get("/api/v1/stores/s1/followups", params={"from": "2026-11-23", "to": "2026-11-23"},
                         headers=world.user("admin")).json()
    assert reasons == [{"kind": "praise", "value": "staff", "n": 1}]


def test_a_void_carrying_its_responses_own_id_does_not_void_it(client, world, engine):
    a = press(4, at=AT)
    post(client, world, [a])
    void = {**followup(a["id"], "void", "maintenance", at=AT), "id": a["id"]}
    (r,) = post(client, world, [void])
    assert r["status"] == "rejected" and r["reason"].startswith("id: ")
    with engine.connect() as conn:
        assert conn.execute(select(t.responses.c.voided).where(t.responses.c.id == a["id"])).scalar() is False
    assert n_on(client, world) == 1


def at_once(posts: list[tuple[str, str, list[dict]]]) -> list[httpx.Response]:
    """POST each ``(base URL, device token, events)`` batch from its own thread, all at the same moment."""
    answers: list = [None] * len(posts)
    barrier = threading.Barrier(len(posts))

    def send(k: int) -> None:
        base, token, events = posts[k]
        barrier.wait()
        answers[k] = httpx.post(base + "/api/v1/responses", json={"events": events},
                                headers={"Authorization": f"Bearer {token}"}, timeout=60)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(len(posts))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(90)
    return answers


@pytest.mark.slow
def test_two_server_instances_racing_one_id_as_response_and_follow_up_store_it_once(db_url):
    """Two ``hymy server`` processes on one database; at the same moment one gets 100 responses and the
    other 100 follow-ups with the same ids: each id is stored once, as one of them."""
    engine = make_engine(db_url)
    admin.create_store(engine, "Race", store_id="race")
    env = {"HYMY_DEVICE_RATE": "0", "HYMY_IP_RATE": "0"}
    with run_server_process(db_url, env) as one, run_server_process(db_url, env) as two:
        tokens = [httpx.post(base + "/api/v1/enroll", json={"code": admin.create_device(engine, "race").code})
                  .json()["token"] for base in (one, two)]
        accepted = rejected = 0
        for _round in range(3):
            ids = [str(uuid.uuid4()) for _ in range(100)]
            target = press(4, at=AT)["id"]
            batches = [[press(4, at=AT, id=i) for i in ids], [{**followup(target, at=AT), "id": i} for i in ids]]
            answers = at_once([(base, tokens[k], batches[k]) for k, base in enumerate((one, two))])
            assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
            results = [a.json()["results"] for a in answers]
            for i in range(len(ids)):
                pair = sorted(results[k][i]["status"] for k in (0, 1))
                assert pair == ["accepted", "rejected"], (ids[i], results[0][i], results[1][i])
                assert next(r for r in (results[0][i], results[1][i]) if r["status"] == "rejected")[
                    "reason"].startswith("id: ")
            accepted += sum(r["status"] == "accepted" for k in (0, 1) for r in results[k])
            rejected += sum(r["status"] == "rejected" for k in (0, 1) for r in results[k])
    with engine.connect() as conn:
        n_r = conn.execute(select(func.count()).select_from(t.responses)).scalar()
        n_f = conn.execute(select(func.count()).select_from(t.followups)).scalar()
        both = conn.execute(select(func.count()).select_from(
            t.responses.join(t.followups, t.followups.c.id == t.responses.c.id))).scalar()
    engine.dispose()
    assert (accepted, rejected, n_r + n_f, both) == (300, 300, 300, 0)


def test_migration_0005_remembers_every_stored_id_and_an_old_clash_keeps_its_response(client, world, engine, db_url):
    """A database at 0004 with events, one follow-up stored with a response's id (as the bug allowed):
    after upgrading, every id is known with its type and resends are answered as before."""
    from sqlalchemy import insert

    from server import migrate

    a, b = press(4, at=AT), press(2, at=AT)
    fu = followup(a["id"], "reason", "queue", at=AT)
    post(client, world, [a, b, fu])
    migrate.downgrade(engine, "0004")
    with engine.begin() as conn:  # back at 0004: add the clash an older server stored
        row = dict(conn.execute(select(t.followups).where(t.followups.c.id == fu["id"])).first()._mapping)
        conn.execute(insert(t.followups).values({**row, "id": b["id"], "value": "price"}))
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.heads()
    with engine.connect() as conn:
        assert dict(conn.execute(select(t.event_ids.c.id, t.event_ids.c.type)).all()) == {
            a["id"]: "response", b["id"]: "response", fu["id"]: "followup"}
    statuses = [r["status"] for r in post(client, world, [a, b, fu, press(3, at=AT)])]
    assert statuses == ["duplicate", "duplicate", "duplicate", "accepted"]
    assert post(client, world, [{**fu, "id": b["id"], "value": "price"}])[0]["reason"].startswith("id: ")
