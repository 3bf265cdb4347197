"""Batches stored together (``server.ingest.ingest_many``, the device API's writer taking the batches that queued
while it worked, ``server.offload.write_grouped``): each batch gets what it would get alone, a batch that
cannot be stored fails alone, and the heartbeats grouped the same way keep their fleet state."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

from sqlalchemy import select

from hymy.protocol import Heartbeat
from server import admin
from server import tables as t
from server.heartbeat import record_heartbeats
from server.ingest import ingest_many
from server.offload import Offload

from .conftest import press, store_with_devices, stored_responses

TZ = "Europe/Helsinki"


def test_batches_together_are_judged_as_one_after_the_other(engine):
    sid, (a, b, c) = store_with_devices(engine)
    same = press(4)
    changed = {**same, "mood": 1}
    outcomes = ingest_many(engine, [
        (a, sid, TZ, [same, press(2)], True),
        (b, sid, TZ, [same], True),            # the same event from another device: a duplicate
        (c, sid, TZ, [changed, {"id": "x"}], True),  # the same id with other content: a conflict; junk
    ])
    assert [r["status"] for r in outcomes[0].results] == ["accepted", "accepted"]
    assert [r["status"] for r in outcomes[1].results] == ["duplicate"]
    assert [r["status"] for r in outcomes[2].results] == ["rejected", "rejected"]
    assert "conflict" in outcomes[2].results[0]["reason"]
    assert (outcomes[0].accepted, outcomes[1].duplicate, outcomes[2].rejected) == (2, 1, 2)
    assert outcomes[0].stores_changed == {sid} and outcomes[1].stores_changed == set()
    assert stored_responses(engine) == 2


def _refuse_rows_of(engine, store_id: str) -> None:
    """A trigger in the database that refuses every response of ``store_id`` (a batch the database cannot
    store, whatever the reason)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"CREATE TRIGGER refuse BEFORE INSERT ON responses WHEN NEW.store_id = '{store_id}' "
                                 "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        else:
            conn.exec_driver_sql("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                                 "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$")
            conn.exec_driver_sql(f"CREATE TRIGGER refuse BEFORE INSERT ON responses FOR EACH ROW "
                                 f"WHEN (NEW.store_id = '{store_id}') EXECUTE FUNCTION refuse()")


def test_a_batch_that_cannot_be_stored_fails_alone(engine):
    sid, (a, b) = store_with_devices(engine, 2)
    bad = admin.create_store(engine, "Refused", timezone=TZ)
    _refuse_rows_of(engine, bad)
    try:
        outcomes = ingest_many(engine, [
            (a, sid, TZ, [press(4)], True),
            (b, bad, TZ, [press(3)], True),
            (b, sid, TZ, [press(5, scale=5)], True),
        ])
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse" + (" ON responses" if engine.dialect.name != "sqlite" else ""))
            if engine.dialect.name != "sqlite":
                conn.exec_driver_sql("DROP FUNCTION refuse()")
    assert isinstance(outcomes[1], Exception) and "refused by the test" in str(outcomes[1])
    assert outcomes[0].accepted == 1 and outcomes[2].accepted == 1
    assert stored_responses(engine) == 2


def test_heartbeats_together_each_keep_their_state(engine):
    sid, devs = store_with_devices(engine)
    beats = [(d, sid, TZ, Heartbeat(app_version=f"1.{i}", boot_id="boot", uptime_ms=1000 * (i + 1),
                                    device_time=datetime.now(UTC), clock_synced=True, pending=i), None)
             for i, d in enumerate(devs)]
    assert record_heartbeats(engine, beats) == [0, 0, 0]
    with engine.connect() as conn:
        rows = dict(conn.execute(select(t.devices.c.id, t.devices.c.app_version).where(t.devices.c.store_id == sid)).all())
    assert rows == {d: f"1.{i}" for i, d in enumerate(devs)}


def test_offload_groups_what_queued_behind_a_busy_thread():
    """Jobs queued while the thread works are taken together; each caller gets its own answer or error."""
    offload = Offload("sqlite", 1)
    started, release = threading.Event(), threading.Event()
    calls: list[list] = []

    def block():
        started.set()
        release.wait(10)

    def runner(items):
        calls.append(list(items))
        return [ValueError(f"bad {i}") if i == 3 else i * 10 for i in items]

    async def main():
        busy = asyncio.ensure_future(offload.write(block))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        jobs = [asyncio.ensure_future(offload.write_grouped(runner, i)) for i in range(5)]
        await asyncio.sleep(0.05)  # all five queued behind the busy thread
        release.set()
        await busy
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        got = asyncio.run(main())
    finally:
        offload.close()
    assert calls == [[0, 1, 2, 3, 4]]
    assert got[:3] == [0, 10, 20] and got[4] == 40
    assert isinstance(got[3], ValueError) and str(got[3]) == "bad 3"
