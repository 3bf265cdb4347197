"""server.results.settled: figures of settled days remembered per process, on SQLite and PostgreSQL.

What a manager would notice: a press synced late for a past day (or moved to another hour of it by a
clock correction) is on the next page at once, although the page remembers those days; and a remembered
figure is the one a fresh read gives.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import create_engine, select

from hymy.hours import zone
from server import admin, results, rollups
from server import tables as t
from server.ingest import ingest
from server.results import settled, usual
from server.results.weekday_hour import _read_weeks, local_hour_sql

from .conftest import press

TZ = "Europe/Helsinki"


def _store(engine, name: str = "Kauppa") -> tuple[str, str]:
    sid = admin.create_store(engine, name, timezone=TZ)
    dev, _token, _cfg = admin.enroll(engine, admin.create_device(engine, sid).code)
    return sid, dev


def _at(day: date, hour: int, minute: int = 10) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone(TZ)).astimezone(UTC)


def _today() -> date:
    return datetime.now(UTC).astimezone(zone(TZ)).date()


def _generation(engine, sid: str) -> int:
    with engine.connect() as conn:
        return settled.generations(conn, [sid])[sid]


def _read_all(engine, sid: str, day: date):
    """What Today's table, Today's cards and the heat map read of ``day`` (a settled usual day)."""
    with engine.connect() as conn:
        so_far = results.until_hour_samples(conn, [sid], TZ, [day], 23).get(sid, {}).get(day)
        hours = results.hour_samples(conn, {sid: TZ}, [day]).get(sid, {}).get(day, {})
        cells, weeks = results.weekday_hour_and_weeks(conn, sid, TZ, day - timedelta(days=28), _today())
    return (so_far.n if so_far else 0, {h: s.n for h, s in hours.items()},
            sum(f.n for f in cells.values()), sum(w.n for ws in weeks.values() for w in ws))


def test_a_late_press_for_a_settled_day_shows_at_once(engine):
    sid, dev = _store(engine)
    usual_day = _today() - timedelta(weeks=1)  # the first of today's usual days: settled
    assert usual_day < settled.settled_before()
    assert ingest(engine, dev, sid, TZ, [press(4, at=_at(usual_day, 10)), press(1, at=_at(usual_day, 11)),
                                        press(4)]).accepted == 3
    assert _generation(engine, sid) == 1  # the batch had a settled day in it
    assert _read_all(engine, sid, usual_day) == (2, {10: 1, 11: 1}, 3, 3)
    assert _read_all(engine, sid, usual_day) == (2, {10: 1, 11: 1}, 3, 3)  # now from memory

    assert ingest(engine, dev, sid, TZ, [press(2, at=_at(usual_day, 14))]).accepted == 1  # synced a week late
    assert _generation(engine, sid) == 2
    assert _read_all(engine, sid, usual_day) == (3, {10: 1, 11: 1, 14: 1}, 4, 4)

    with engine.connect() as conn:  # the day so far against its usual: the late press is in the baseline
        judged = usual.days_so_far(conn, {sid: TZ}, {sid: _today()}, {sid: 23})[sid]
    assert judged.baseline_n == 3


def test_a_clock_correction_within_a_settled_day_shows_at_once(engine):
    """A heartbeat's correction moves a press to another hour of the same day: no daily count changes,
    the hours do (``server.rollups.bump_hourly``, the heartbeat's own path)."""
    sid, dev = _store(engine)
    day = _today() - timedelta(weeks=2)
    assert ingest(engine, dev, sid, TZ, [press(4, at=_at(day, 9)), press(4, at=_at(day, 16))]).accepted == 2
    with engine.connect() as conn:
        before = results.until_hour_samples(conn, [sid], TZ, [day], 12)[sid][day].n
        hour_utc = conn.execute(select(t.rollup_hourly.c.hour_utc).where(
            t.rollup_hourly.c.store_id == sid).order_by(t.rollup_hourly.c.hour_utc)).scalars().first()
    assert before == 1
    later = _at(day, 17, 0).strftime("%Y-%m-%dT%H:00:00.000Z")
    with engine.begin() as conn:
        rollups.bump_hourly(conn, sid, {(day.isoformat(), hour_utc, 4, 4): [-1, 0],
                                        (day.isoformat(), later, 4, 4): [1, 0]})
    with engine.connect() as conn:
        morning = results.until_hour_samples(conn, [sid], TZ, [day], 12).get(sid, {}).get(day)
        assert morning is None or morning.n == 0  # (its hour's row stays, at 0)
        assert {h: s.n for h, s in results.hour_samples(conn, {sid: TZ}, [day])[sid][day].items()} == {16: 1, 17: 1}


def test_presses_of_today_and_yesterday_mark_nothing(engine):
    sid, dev = _store(engine)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert ingest(engine, dev, sid, TZ, [press(4), press(3, at=yesterday)]).accepted == 2
    assert _generation(engine, sid) == 0
    with engine.connect() as conn:
        assert conn.execute(select(t.rollup_generations)).all() == []


def test_marked_and_settled_dates_leave_a_day_between():
    now = datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
    assert rollups.marked_before(now) == "2026-12-05"
    assert settled.settled_before(now) == date(2026, 12, 4)
    # whatever the zone, a store's today is after both (UTC-12 is still on 5 December)
    assert now.astimezone(zone("Etc/GMT+12")).date() >= date.fromisoformat(rollups.marked_before(now))


def test_the_heat_maps_remembered_weeks_add_up_to_one_read_of_the_whole_period(engine):
    sid, dev = _store(engine)
    today = _today()
    events = [press(1 + (k * 7 + h) % 4, at=_at(today - timedelta(days=k), h)) for k in range(1, 40, 3)
              for h in (9, 13, 18)]
    assert ingest(engine, dev, sid, TZ, events).accepted == len(events)
    first = today - timedelta(days=45)
    with engine.connect() as conn:
        whole = _read_weeks(conn, sid, local_hour_sql(TZ, first, today), first, today)
        for _ in range(2):  # read, then from memory
            cells, weeks = results.weekday_hour_and_weeks(conn, sid, TZ, first, today)
            assert weeks == {cell: list(ws) for cell, ws in whole.weeks.items()}
            assert {c: (f.counts, f.filtered) for c, f in cells.items()} == {
                c: (whole.counted[c][4], whole.filtered[c]) for c in whole.counted}
            assert cells == results.weekday_hour(conn, sid, TZ, first, today)


def test_each_database_has_its_own_memory(tmp_path):
    """Two databases with a store of the same id: neither is shown the other's figures."""
    from server.app import create_app
    from server.settings import Settings

    day = _today() - timedelta(weeks=1)
    figures = []
    for name, moods in (("a", [4, 4]), ("b", [1])):
        engine = create_app(Settings(database_url=f"sqlite:///{tmp_path / name}.db")).state.engine
        admin.create_store(engine, "Sama", timezone=TZ, store_id="same")
        dev, _token, _cfg = admin.enroll(engine, admin.create_device(engine, "same").code)
        ingest(engine, dev, "same", TZ, [press(m, at=_at(day, 10 + i)) for i, m in enumerate(moods)])
        with engine.connect() as conn:
            figures.append(results.until_hour_samples(conn, ["same"], TZ, [day], 23)["same"][day].n)
        engine.dispose()
    assert figures == [2, 1]


def test_a_heat_map_keeps_one_entry_per_store_and_length_of_period(engine):
    """Tomorrow's year replaces today's: the memory does not grow by a year of weeks a day."""
    sid, dev = _store(engine)
    today = _today()
    assert ingest(engine, dev, sid, TZ, [press(4, at=_at(today - timedelta(days=k), 12)) for k in (3, 10, 40)]).accepted == 3
    with engine.connect() as conn:
        mem = settled.memory(conn)
        sizes = []
        for shift in range(3):  # the same length of period, ending a day later each time
            last = today - timedelta(days=2 - shift)
            cells, _weeks = results.weekday_hour_and_weeks(conn, sid, TZ, last - timedelta(days=364), last)
            assert cells == results.weekday_hour(conn, sid, TZ, last - timedelta(days=364), last)
            sizes.append((len(mem), mem.weight))
    assert sizes[0] == sizes[1] == sizes[2]


def test_memory_is_bounded_by_weight():
    mem = settled.Memory(size=100)
    mem.keep({("k", "s", i): i for i in range(4)}, {"s": 0}, weight=20)
    assert (len(mem), mem.weight) == (4, 80)
    mem.keep({("k", "s", 0): "again"}, {"s": 0}, weight=20)  # replaced, not added
    assert (len(mem), mem.weight) == (4, 80)
    mem.keep({("k", "s", 9): 9, ("k", "s", 10): 10}, {"s": 0}, weight=20)  # 120 > 100: starts over
    assert (len(mem), mem.weight) == (2, 40)


def test_memory_is_bounded_and_keys_carry_the_generation():
    mem = settled.Memory(size=3)
    gens = {"s": 1}
    mem.keep({("k", "s", 1): "one", ("k", "s", 2): "two"}, gens)
    assert mem.take([("k", "s", 1), ("k", "s", 3)], gens) == {("k", "s", 1): "one"}
    assert mem.take([("k", "s", 1)], {"s": 2}) == {}  # kept under an older generation: read again
    mem.keep({("k", "s", 3): "three", ("k", "s", 4): "four"}, gens)
    assert len(mem) <= 3 and mem.take([("k", "s", 4)], gens) == {("k", "s", 4): "four"}


def test_an_engine_gone_takes_its_memory_with_it(tmp_path):
    import gc

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        settled.memory(conn).keep({("k", "s", 1): 1}, {"s": 0})
    count = len(settled._memories)
    engine.dispose()
    del engine, conn
    gc.collect()
    assert len(settled._memories) == count - 1


def test_the_manager_api_shows_a_late_press_in_an_hours_usual_at_once(world):
    """Over HTTP, as a manager's tool reads it: an hour of a past day against the same hour of its usual
    days. A press of one of those usual days, synced late, is in the next answer's baseline."""
    client = world.client
    day = _today() - timedelta(weeks=1)
    usual_day = day - timedelta(weeks=1)

    def send(events):
        r = client.post("/api/v1/responses", json={"events": events}, headers=world.device("s1"))
        assert r.status_code == 200 and all(x["status"] == "accepted" for x in r.json()["results"]), r.text

    def baseline_of_ten() -> int | None:
        r = client.get("/api/v1/stores/s1/hourly", params={"date": day.isoformat()}, headers=world.user("manager"))
        assert r.status_code == 200, r.text
        (ten,) = [x for x in r.json()["hours"] if x["hour"][11:13] == "10"]
        return (ten["baseline"] or {}).get("n")

    send([press(4, at=_at(day, 10, m)) for m in range(5)] + [press(3, at=_at(usual_day, 10, 1))])
    assert baseline_of_ten() == 1
    assert baseline_of_ten() == 1  # (remembered)
    send([press(1, at=_at(usual_day, 10, 30)), press(2, at=_at(usual_day - timedelta(weeks=3), 10, 30))])
    assert baseline_of_ten() == 3
