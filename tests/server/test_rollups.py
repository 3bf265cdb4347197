"""Region rollups: a region's results read O(days) rows, stay equal to the sum of its stores' results
through voids, clock corrections and store moves, and never drift while ingest and moves race."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from server import admin, results
from server import tables as t
from server.ingest import ingest
from server.rollups import rebuild_regions

from .conftest import followup, press

DAY0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday, 10:00 in Helsinki
START, END = date(2026, 11, 1), date(2026, 11, 8)


def post(client, world, sid, events):
    r = client.post("/api/v1/responses", json={"events": events}, headers=world.device(sid))
    assert r.status_code == 200, r.text
    return r.json()["results"]


def week(client, world, sid, moods):
    """One press a day for six days, with one repeat-flagged press on the first day."""
    events = [press(m, at=DAY0 + timedelta(days=i, minutes=7 * int(sid[1:]))) for i, m in enumerate(moods)]
    events.append(press(4, at=DAY0, flags=["repeat"]))
    post(client, world, sid, events)
    return events


def region_days(client, world, region="north"):
    r = client.get(f"/api/v1/regions/{region}/daily", params={"from": START.isoformat(), "to": END.isoformat()},
                   headers=world.user("admin"))
    assert r.status_code == 200, r.text
    return r.json()["days"]


def summed(engine, store_ids):
    """Each store's own daily figures added up: what a region must show."""
    with engine.connect() as conn:
        per_store = [[f.to_json() for f in results.daily(conn, [s], START, END).values()] for s in store_ids]
    return [(sum(d[i]["n"] for d in per_store), sum(d[i]["filtered"] for d in per_store),
             {m: sum(int(d[i]["counts"].get(m, 0)) for d in per_store) for m in "1234"})
            for i in range(len(per_store[0]))]


def shape(days):
    return [(d["n"], d["filtered"], {m: int(d["counts"].get(m, 0)) for m in "1234"}) for d in days]


def region_table(engine) -> dict:
    rr = t.rollup_region_daily
    with engine.connect() as conn:
        return {(r.region_id, r.local_date, r.scale, r.mood): (r.counted, r.filtered)
                for r in conn.execute(select(rr)) if r.counted or r.filtered}


def test_region_results_come_from_the_region_rollup_and_equal_the_store_sums(client, world, engine):
    week(client, world, "s1", [1, 2, 3, 4, 4, 4])
    week(client, world, "s2", [4, 4, 1, 1, 2, 3])
    week(client, world, "s3", [1, 1, 1, 1, 1, 1])  # the other region
    days = region_days(client, world)
    assert shape(days) == summed(engine, ["s1", "s2"])
    assert days[1]["n"] == 2 and days[1]["filtered"] == 2 and days[1]["counts"] == {"1": 1, "4": 1}
    table = region_table(engine)
    assert table[("north", "2026-11-02", 4, 1)] == (1, 0) and table[("north", "2026-11-02", 4, 4)] == (1, 2)
    assert sum(c for (r, *_), (c, _f) in table.items() if r == "south") == 6
    # a set that is not a whole region is read from the stores' own rollups, with the same answer
    with engine.connect() as conn:
        mixed = results.daily(conn, ["s1", "s3"], START, END)
    assert shape([f.to_json() for f in mixed.values()]) == summed(engine, ["s1", "s3"])


def test_a_region_of_stores_with_different_scales_totals_every_press_exactly(client, world, engine):
    """A 3-face store and a 5-face store on the same days: each day and the period's total score every
    press on its own scale (the total used to fold a mixed day into 4 faces: a 5-face mood 5 became a 500)."""
    from hymy.score import score_tally

    post(client, world, "s1", [press(3, at=DAY0, scale=3), press(1, at=DAY0 + timedelta(days=1), scale=3)])
    post(client, world, "s2", [press(5, at=DAY0, scale=5), press(4, at=DAY0, scale=5)])
    for path in ("/api/v1/regions/north/daily", "/api/v1/stores/s1/daily"):
        r = client.get(path, params={"from": START.isoformat(), "to": END.isoformat()}, headers=world.user("admin"))
        assert r.status_code == 200, r.text
    total = client.get("/api/v1/regions/north/daily", params={"from": START.isoformat(), "to": END.isoformat()},
                       headers=world.user("admin")).json()["total"]
    exact = score_tally([(3, 3, 1), (3, 1, 1), (5, 5, 1), (5, 4, 1)])
    assert (total["n"], total["scales"], total["counts"]) == (4, [3, 5], {"1": 1, "3": 1, "4": 1, "5": 1})
    assert total["happy_index"] == round(exact.happy_index, 1) == 68.8
    r = client.get("/api/v1/stores/s1/hourly", params={"date": "2026-11-02"}, headers=world.user("admin"))
    assert r.json()["total"]["counts"] == {"3": 1} and r.json()["total"]["scales"] == [3]


def test_void_and_clock_correction_move_region_counts_too(client, world, engine):
    events = week(client, world, "s1", [1, 2, 3, 4, 4, 4])
    post(client, world, "s1", [followup(events[0]["id"], "void", "hold")])
    unsynced = press(2, at=datetime(1970, 1, 1, 0, 5, tzinfo=UTC), clock_synced=False, uptime_ms=40_000)
    post(client, world, "s1", [unsynced])
    hb = {"app_version": "0.1.0", "boot_id": "boot-1", "uptime_ms": 100_000, "device_time": "2026-11-05T10:00:00.000Z",
          "clock_synced": True, "pending": 0, "oldest_pending_s": 0, "quarantined": 0}
    assert client.post("/api/v1/heartbeat", json=hb, headers=world.device("s1")).json()["corrected"] == 1
    days = region_days(client, world)
    assert shape(days) == summed(engine, ["s1", "s2"])
    assert days[1]["n"] == 0 and days[1]["filtered"] == 2  # the voided press moved to filtered
    assert days[4]["counts"].get("2") == 1  # the corrected press landed on 5 November
    with engine.begin() as conn:
        before = region_table(engine)
        rebuild_regions(conn)
    assert region_table(engine) == before


def test_moving_a_store_moves_its_history_and_its_new_presses(client, world, engine):
    week(client, world, "s1", [1, 2, 3, 4, 4, 4])
    week(client, world, "s2", [4, 4, 1, 1, 2, 3])
    week(client, world, "s3", [1, 1, 1, 1, 1, 1])
    assert admin.move_store(engine, "s2", "south") == "north"
    assert shape(region_days(client, world, "north")) == summed(engine, ["s1"])
    assert shape(region_days(client, world, "south")) == summed(engine, ["s2", "s3"])
    post(client, world, "s2", [press(4, at=DAY0 + timedelta(hours=1))])
    assert shape(region_days(client, world, "south")) == summed(engine, ["s2", "s3"])
    assert admin.move_store(engine, "s2", None) == "south"
    assert shape(region_days(client, world, "south")) == summed(engine, ["s3"])
    with engine.connect() as conn:
        assert conn.execute(select(t.stores.c.region_id).where(t.stores.c.id == "s2")).scalar() is None


def test_region_rollup_never_drifts_while_ingest_and_moves_race(client, world, engine):
    """Two threads ingest into s2 while a third moves s2 between regions: the region rollup must end
    equal to a rebuild from the store rollups (no delta lost or counted in the wrong region)."""
    device, tz = world_device(engine, "s2"), "Europe/Helsinki"
    errors: list[BaseException] = []

    def feed(seed: int) -> None:
        try:
            for i in range(12):  # bounded
                batch = [press(1 + (seed + i + k) % 4, at=DAY0 + timedelta(days=(i + k) % 6, minutes=k))
                         for k in range(20)]
                assert ingest(engine, device, "s2", tz, batch).accepted == 20
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def move() -> None:
        try:
            for i in range(8):  # bounded
                admin.move_store(engine, "s2", "south" if i % 2 == 0 else "north")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(n,)) for n in (0, 1)] + [threading.Thread(target=move)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    live = region_table(engine)
    with engine.begin() as conn:
        rebuild_regions(conn)
    assert region_table(engine) == live
    assert sum(c for (_r, *_), (c, _f) in live.items()) == 2 * 12 * 20


def world_device(engine, sid: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(t.devices.c.id).where(t.devices.c.store_id == sid)).scalar()


def test_migration_0004_fills_the_region_rollup_from_existing_store_rollups(db_url):
    """A database at 0003 with history: after upgrading, every region already has its rollup."""
    from sqlalchemy import insert

    from server import migrate
    from server.db import make_engine

    engine = make_engine(db_url)
    migrate.downgrade(engine, "0003")  # the fixture's database is at head: take it back to 0003, empty
    with engine.begin() as conn:
        conn.execute(insert(t.regions), [{"id": r, "name": r, "created_at": "2026-01-01T00:00:00.000Z"}
                                         for r in ("north", "south")])
        conn.execute(insert(t.stores), [{"id": s, "region_id": r, "name": s, "timezone": "Europe/Helsinki",
                                         "config_json": "{}", "created_at": "2026-01-01T00:00:00.000Z"}
                                        for s, r in (("a", "north"), ("b", "north"), ("c", "south"), ("d", None))])
        conn.execute(insert(t.rollup_daily), [
            {"store_id": s, "local_date": "2026-11-02", "scale": 4, "mood": m, "counted": n, "filtered": f}
            for s, m, n, f in (("a", 1, 2, 0), ("b", 1, 3, 1), ("b", 4, 5, 0), ("c", 4, 7, 2), ("d", 4, 11, 0))])
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.heads()
    assert region_table(engine) == {("north", "2026-11-02", 4, 1): (5, 1), ("north", "2026-11-02", 4, 4): (5, 0),
                                    ("south", "2026-11-02", 4, 4): (7, 2)}
    with engine.connect() as conn:
        assert results.daily(conn, ["a", "b"], date(2026, 11, 2), date(2026, 11, 2))[date(2026, 11, 2)].n == 10
    engine.dispose()
