"""server.results (the one read path of the manager API, CSV, reports and the dashboard) against a real
database, SQLite and PostgreSQL: the SQL aggregations agree with the raw presses and with each other."""

from __future__ import annotations

import os
import secrets
from collections import Counter
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, select, text

from hymy.hours import zone
from hymy.timestamps import parse_ts
from server import admin, results
from server import tables as t
from server.app import create_app
from server.dashboard.sample import seed
from server.ingest import ingest
from server.results.weekday_hour import offsets
from server.settings import Settings
from tests.conftest import need

TZ = "Europe/Helsinki"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path_factory):
    """A fresh database: a SQLite file, or a schema of its own on the real PostgreSQL (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('data')}/s.db"
        return
    url = os.environ.get("HYMY_TEST_POSTGRES_URL", "")
    need("postgres", bool(url), "set HYMY_TEST_POSTGRES_URL=postgresql+psycopg://user:pw@127.0.0.1/db")
    schema = "dash_" + secrets.token_hex(5)
    base = create_engine(url)
    with base.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options={quote('-csearch_path=' + schema)}"
    with base.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    base.dispose()


@pytest.fixture(scope="module")
def db(db_url):
    app = create_app(Settings(database_url=db_url))
    sample = seed(app.state.engine, days=20, per_day=60)
    yield app.state.engine, sample
    app.state.engine.dispose()


def raw_counts(engine, store_id):
    """(weekday, local hour, mood) -> counted presses, straight from the raw responses."""
    with engine.connect() as conn:
        rows = conn.execute(select(t.responses.c.pressed_at, t.responses.c.mood).where(
            t.responses.c.store_id == store_id, t.responses.c.flags == "", t.responses.c.voided.is_(False))).all()
    out = Counter()
    for at, mood in rows:
        local = parse_ts(at).astimezone(zone(TZ))
        out[(local.weekday(), local.hour, mood)] += 1
    return out


def test_weekday_hour_matches_raw_presses(db):
    engine, s = db
    sid = s.store_ids[0]
    with engine.connect() as conn:
        cells = results.weekday_hour(conn, sid, TZ, date(2000, 1, 1), date(2100, 1, 1))
    got = Counter({(wd, h, m + 1): c for (wd, h), f in cells.items() for m, c in enumerate(f.counts) if c})
    assert got == raw_counts(engine, sid)
    assert sum(f.filtered for f in cells.values()) > 0


def test_totals_and_daily_agree(db):
    engine, s = db
    with engine.connect() as conn:
        today = max(results.daily_by_store(conn, s.store_ids, date(2000, 1, 1), date(2100, 1, 1))[s.store_ids[0]])
        first = today - timedelta(days=9)
        daily = results.daily_by_store(conn, s.store_ids, first, today)
        totals = results.totals(conn, s.store_ids, first, today)
        only = results.daily_by_store(conn, s.store_ids, first, today, only={today, first})
        summed = results.daily(conn, s.store_ids, first, today)
    for sid in s.store_ids:
        assert totals[sid].n == sum(f.n for f in daily[sid].values())
        assert totals[sid].filtered == sum(f.filtered for f in daily[sid].values())
        assert totals[sid] == results.merge(daily[sid].values())
    assert set(only[s.store_ids[0]]) <= {today, first}
    assert only[s.store_ids[0]][today] == daily[s.store_ids[0]][today]
    # the stores summed (the API's and the reports' path) are the stores' own days added up
    assert list(summed) == results.dates(first, today)
    for day, fig in summed.items():
        assert fig == results.merge([daily[sid][day] for sid in s.store_ids if day in daily[sid]])


def test_heat_map_and_hours_across_the_dst_change(db):
    engine = db[0]
    sid = admin.create_store(engine, "Yökauppa", timezone=TZ)
    new = admin.create_device(engine, sid)
    dev, _token, _cfg = admin.enroll(engine, new.code)
    # Sunday 29 March 2026: clocks go 03:00 -> 04:00 in Helsinki. 00:30 UTC is 02:30 local, 01:30 UTC 04:30.
    events = [{"type": "response", "id": f"0195e000-0000-7000-8000-00000000000{i}", "question_id": "q", "mood": 4,
               "scale": 4, "source": "touch", "pressed_at": at, "clock_synced": True, "boot_id": "b", "uptime_ms": 1,
               "flags": [], "app_version": "1"} for i, at in enumerate(["2026-03-29T00:30:00.000Z",
                                                                         "2026-03-29T01:30:00.000Z",
                                                                         "2026-10-25T00:30:00.000Z"])]
    assert ingest(engine, dev, sid, TZ, events).accepted == 3
    with engine.connect() as conn:
        cells = results.weekday_hour(conn, sid, TZ, date(2026, 3, 1), date(2026, 10, 31))
        both, weeks = results.weekday_hour_and_weeks(conn, sid, TZ, date(2026, 3, 1), date(2026, 10, 31))
        hours = results.by_local_hour(results.hour_buckets(conn, sid, TZ, date(2026, 3, 29)))
    assert {k: f.n for k, f in cells.items()} == {(6, 2): 1, (6, 4): 1, (6, 3): 1}
    assert both == cells and {k: [w.n for w in ws] for k, ws in weeks.items()} == {(6, 2): [1], (6, 4): [1], (6, 3): [1]}
    assert {h: f.n for h, f in hours.items()} == {2: 1, 4: 1}


def test_offsets_list_the_changes_of_the_period():
    assert offsets(TZ, date(2026, 1, 1), date(2026, 2, 1)) == [(None, 120)]
    assert offsets(TZ, date(2026, 3, 1), date(2026, 11, 1)) == [
        ("2026-03-29T01:00:00.000Z", 120), ("2026-10-25T01:00:00.000Z", 180), (None, 120)]
    # exact instants also where a change is not on a local midnight's hour grid (Chatham: 02:45 local)
    assert offsets("Pacific/Chatham", date(2026, 9, 1), date(2026, 10, 1)) == [
        ("2026-09-26T14:00:00.000Z", 765), (None, 825)]
    assert offsets("Australia/Lord_Howe", date(2026, 4, 1), date(2026, 10, 31)) == [
        ("2026-04-04T15:00:00.000Z", 660), ("2026-10-03T15:30:00.000Z", 630), (None, 660)]


def test_local_hours_until_hour_and_reasons_by_hour_agree_with_each_day_read_alone(db):
    """The readers Today uses for all its stores at once give what each day's own reading gives: the
    figures per local hour, the day "so far" up to an hour, and the reasons per hour."""
    from collections import defaultdict

    engine, s = db
    with engine.connect() as conn:
        today = max(results.daily_by_store(conn, s.store_ids, date(2000, 1, 1), date(2100, 1, 1))[s.store_ids[0]])
        days = [today - timedelta(days=k) for k in (0, 1, 7)]
        zones = {sid: TZ for sid in s.store_ids}
        many = results.local_hours(conn, zones, days)
        for sid in s.store_ids:
            for day in days:
                alone = results.by_local_hour(results.hour_buckets(conn, sid, TZ, day))
                assert many.get(sid, {}).get(day, {}) == alone, (sid, day)
                for hour in (11, 15, 23):
                    upto = results.until_hour(conn, [sid], TZ, [day], hour).get(sid, {}).get(day)
                    expect = results.merge([f for h, f in alone.items() if h <= hour])
                    assert (upto or results.merge([])) == expect, (sid, day, hour)
        for hour in (11, 15, 23):  # the samples Today's table judges: the figures' own, to the last bit
            figs = results.until_hour(conn, s.store_ids, TZ, days, hour)
            samples = results.until_hour_samples(conn, s.store_ids, TZ, days, hour)
            assert {sid: {d: f.sample for d, f in per.items()} for sid, per in figs.items()} == samples
            assert any(x.n for per in samples.values() for x in per.values())
        by_hour = results.followups_by_hour(conn, {sid: (TZ, today - timedelta(days=1)) for sid in s.store_ids})
        for sid in s.store_ids:
            day = today - timedelta(days=1)
            total = defaultdict(int)
            for counts in by_hour.get(sid, {}).values():
                for c in counts:
                    total[c.value] += c.n
            assert dict(total) == {c.value: c.n for c in results.followup_counts(conn, [sid], day, day, "reason")}
        raw = conn.execute(select(t.followups.c.pressed_at, t.followups.c.value).where(
            t.followups.c.store_id == s.store_ids[0], t.followups.c.kind == "reason",
            t.followups.c.local_date == (today - timedelta(days=1)).isoformat())).all()
    per_hour = defaultdict(lambda: defaultdict(int))
    for at, value in raw:
        per_hour[parse_ts(at).astimezone(zone(TZ)).hour][value] += 1
    got = {h: {c.value: c.n for c in cs} for h, cs in by_hour[s.store_ids[0]].items()}
    assert got == {h: dict(v) for h, v in per_hour.items()} and got


def test_weekday_hour_weeks_add_up_to_the_heat_map_cells(db):
    engine, s = db
    sid = s.store_ids[0]
    with engine.connect() as conn:
        cells = results.weekday_hour(conn, sid, TZ, date(2000, 1, 1), date(2100, 1, 1))
        weeks = results.weekday_hour_weeks(conn, sid, TZ, date(2000, 1, 1), date(2100, 1, 1))
        both = results.weekday_hour_and_weeks(conn, sid, TZ, date(2000, 1, 1), date(2100, 1, 1))
    assert both == (cells, weeks)  # the heat map's one pass gives what the two readers give
    assert {k for k, f in cells.items() if f.n} == set(weeks)
    for key, samples in weeks.items():
        pooled = sum(samples, start=type(samples[0])())
        assert pooled.n == cells[key].n and abs(pooled.total - cells[key].sample.total) < 1e-9, key
        assert all(w.n for w in samples) and len(samples) <= 3  # one per week with presses (20 days: 3 weeks)


def test_today_so_far_is_judged_alike_from_the_database_and_from_the_cards_hours(db):
    """Today's table sums "so far" in the database, its cards from the hours they show: same verdicts."""
    from server.results import usual

    engine, s = db
    with engine.connect() as conn:
        today = max(results.daily_by_store(conn, s.store_ids, date(2000, 1, 1), date(2100, 1, 1))[s.store_ids[0]])
        zones = {sid: TZ for sid in s.store_ids}
        for day in (today, today - timedelta(days=1)):
            for until in (10, 14, 23):
                days = {sid: day for sid in s.store_ids}
                summed = usual.days_so_far(conn, zones, days, {sid: until for sid in s.store_ids})
                hours, history = usual.usual_hours(conn, zones, days)
                judged = usual.judge_so_far(hours, history, {sid: until for sid in s.store_ids})
                for sid in s.store_ids:
                    a, b = summed[sid], judged[sid]
                    assert (a.n, a.verdict, a.baseline_n) == (b.n, b.verdict, b.baseline_n), (day, until, sid)
                    assert a.p == pytest.approx(b.p) if a.p is not None else b.p is None
