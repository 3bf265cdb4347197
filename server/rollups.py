"""Rollups: counts kept beside the raw events, in the same transaction, so results read O(days) rows.

Three levels from the same deltas (``(counted, filtered)`` per local date x hour x scale x mood):

- ``rollup_hourly``: store x local date x local hour (the hour as its UTC start, DST-safe);
- ``rollup_daily``: store x local date (long ranges of one store);
- ``rollup_region_daily``: region x local date (a region of 100 stores for a year is 365 x moods rows,
  not 36,500 x moods). A store's region is read with ``FOR SHARE`` on PostgreSQL before any rollup is
  touched, so :func:`move_store` (which updates the store row, then rebuilds both regions from
  ``rollup_daily``) never races a delta into the wrong region. On SQLite every writer holds the write
  lock for its whole transaction (``BEGIN IMMEDIATE``).

Follow-up reason / praise choices have their own table, ``rollup_followups`` (store x date x hour).

A batch that changes the counts of a local date before :func:`marked_before` (yesterday in UTC: a date
over in every zone) also adds one to the store's ``rollup_generations`` row in the same transaction:
readers remember figures of such settled dates until then (``server.results.settled``). Presses of today
and yesterday, nearly every batch, pay only a comparison of two dates.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, select, text, update

from . import tables as t
from .binding import json_param, json_rows

#: The region rollup from the store rollup (a migration, ``move_store`` and the benchmark's fill use it).
_REBUILD_REGION = (
    "INSERT INTO rollup_region_daily (region_id, local_date, scale, mood, counted, filtered) "
    "SELECT s.region_id, d.local_date, d.scale, d.mood, SUM(d.counted), SUM(d.filtered) "
    "FROM rollup_daily d JOIN stores s ON s.id = d.store_id WHERE s.region_id IS NOT NULL{where} "
    "GROUP BY s.region_id, d.local_date, d.scale, d.mood")


def deltas(counts: dict[tuple, list[int]], fcounts: dict[tuple, int]) -> tuple[list, list, list]:
    """The rows to add (pure): ``(hourly, daily, followups)`` from ``(counted, filtered)`` per ``(local_date,
    hour_utc, scale, mood)`` and choices per ``(local_date, hour_utc, kind, value)``, each in key order,
    without zero deltas. ``hourly``: ``(date, hour, scale, mood, counted, filtered)``; ``daily``: ``(date,
    scale, mood, counted, filtered)``; ``followups``: ``(date, hour, kind, value, n)``."""
    hourly = [(*k, v[0], v[1]) for k, v in sorted(counts.items()) if v[0] or v[1]]
    daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for k0, _, k2, k3, c, f in hourly:
        d = daily[(k0, k2, k3)]
        d[0] += c
        d[1] += f
    days = [(*k, v[0], v[1]) for k, v in sorted(daily.items()) if v[0] or v[1]]
    return hourly, days, [(*k, v) for k, v in sorted(fcounts.items()) if v]


def _upsert(table, source: str) -> str:
    """``INSERT INTO table (columns) source ON CONFLICT (key) DO UPDATE SET c = table.c + excluded.c``."""
    cols = [c.name for c in table.c]
    keys = [c.name for c in table.primary_key.columns]
    sums = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in cols if c not in keys)
    return (f"INSERT INTO {table.name} ({', '.join(cols)}) {source} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sums}")


_SQLITE = {tb.name: _upsert(tb, f"VALUES ({', '.join('?' for _ in tb.c)})") for tb in (t.rollup_hourly, t.rollup_daily, t.rollup_region_daily,
                                                   t.rollup_followups)}


#: SQLite: a daily delta added to the store's region's rollup, the region read in the same statement (none
#: when the store has no region).
_SQLITE_REGION = _upsert(t.rollup_region_daily, "SELECT region_id, ?, ?, ?, ?, ? FROM stores "
                                                 "WHERE id = ? AND region_id IS NOT NULL")

def _pg_from(table, param: str, *, first: str = "", join: str = "") -> str:
    """PostgreSQL: ``table``'s rows from its JSON parameter (:func:`server.binding.json_rows`), the columns in
    order (``first`` in place of the first one, from the relation ``join`` beside them: the region for the
    region's rollup)."""
    cols = [f"u.{c.name}" for c in table.c]
    if first:
        cols[0] = first
    return f"SELECT {', '.join(cols)} FROM {join + ', ' if join else ''}{json_rows(table, param)}"


_HOURLY, _DAILY, _FOLLOWUPS = ([c.name for c in tb.c] for tb in (t.rollup_hourly, t.rollup_daily, t.rollup_followups))

#: PostgreSQL: every rollup of a batch in one statement (one round trip), the deltas bound as one JSON
#: value per table. The store row is share-locked first (the main query reads it before the region rollup;
#: the other upserts, in WITH, run after the main query), then hourly, daily and follow-up rows in key order.
_PG_BUMP = (
    "WITH reg AS (SELECT region_id FROM stores WHERE id = %(store)s FOR SHARE), "
    "h AS (" + _upsert(t.rollup_hourly, _pg_from(t.rollup_hourly, "h")) + "), "
    "d AS (" + _upsert(t.rollup_daily, _pg_from(t.rollup_daily, "d")) + "), "
    "f AS (" + _upsert(t.rollup_followups, _pg_from(t.rollup_followups, "f")) + ") "
    + _upsert(t.rollup_region_daily, _pg_from(t.rollup_daily, "d", first="reg.region_id", join="reg")
              + " WHERE reg.region_id IS NOT NULL"))


#: A change to the counts of a local date this many days or more before the UTC date marks the store's
#: generation (``rollup_generations``); readers remember only dates a day older still (``server.results.settled``).
MARK_DAYS = 1

#: Add one to a store's generation (its row made at 1 the first time).
_MARK = ("INSERT INTO rollup_generations (store_id, generation) VALUES ({p}, 1) ON CONFLICT (store_id) "
         "DO UPDATE SET generation = rollup_generations.generation + 1")
_MARK_SQL = {"sqlite": _MARK.format(p="?"), "postgresql": _MARK.format(p="%s")}


def marked_before(now: datetime | None = None) -> str:
    """The ISO local date before which a change of counts marks the store's generation: the UTC date of
    ``now`` (default: the clock) less :data:`MARK_DAYS`. Every zone's today is at or after it."""
    global _marked
    if now is not None:
        return (now.astimezone(UTC).date() - timedelta(days=MARK_DAYS)).isoformat()
    day = int(time.time() // 86400)  # every batch asks: the text is made once per UTC day
    if _marked[0] != day:
        _marked = (day, (_EPOCH + timedelta(days=day - MARK_DAYS)).isoformat())
    return _marked[1]


_EPOCH = date(1970, 1, 1)
_marked: tuple[int, str] = (-1, "")  #: (UTC day number, :func:`marked_before`'s text for it)


def bump(cur, dialect: str, store_id: str, counts: dict[tuple, list[int]], fcounts: dict[tuple, int]) -> None:
    """Add the deltas (see :func:`deltas`) to the store's hourly, daily and follow-up rollups and to its
    region's daily rollup, through the driver's cursor ``cur`` inside the caller's write transaction.

    SQLite (the write lock is held since BEGIN IMMEDIATE): an ``executemany`` per table (the region's upsert reads
    the store's region itself).
    PostgreSQL: one statement (:data:`_PG_BUMP`), the store row share-locked before any rollup row.
    Either way, when an hourly delta is of a date before :func:`marked_before`, the store's generation
    first grows by one (a late press, a void or a clock correction of a settled day; hourly, since a
    correction within a day changes no daily count).
    """
    hourly, days, chosen = deltas(counts, fcounts)
    if not (hourly or chosen):
        return
    if hourly and hourly[0][0] < marked_before():  # the earliest date (in key order): a settled day changed
        cur.execute(_MARK_SQL[dialect], (store_id,))
    if dialect == "postgresql":
        cur.execute(_PG_BUMP, {"store": store_id, "h": json_param(_HOURLY, [(store_id, *r) for r in hourly]),
                               "d": json_param(_DAILY, [(store_id, *d) for d in days]),
                               "f": json_param(_FOLLOWUPS, [(store_id, *c) for c in chosen])})
        return
    if hourly:
        cur.executemany(_SQLITE["rollup_hourly"], [(store_id, *r) for r in hourly])
        cur.executemany(_SQLITE["rollup_daily"], [(store_id, *d) for d in days])
        cur.executemany(_SQLITE_REGION, [(*d, store_id) for d in days])
    if chosen:
        cur.executemany(_SQLITE["rollup_followups"], [(store_id, *c) for c in chosen])


def bump_hourly(conn, store_id: str, counts: dict[tuple, list[int]],
                fcounts: dict[tuple, int] | None = None) -> None:
    """:func:`bump` on a SQLAlchemy connection (in its write transaction): ``(counted, filtered)`` deltas
    per ``(local_date, hour_utc, scale, mood)`` and reason / praise choices per ``(local_date, hour_utc,
    kind, value)``."""
    driver = conn.connection.driver_connection
    cur = driver.cursor()
    try:
        bump(cur, conn.dialect.name, store_id, counts, fcounts or {})
    finally:
        cur.close()


def rebuild_regions(conn, region_ids: list[str] | None = None) -> None:
    """Recompute ``rollup_region_daily`` from ``rollup_daily`` for ``region_ids`` (None: every region)."""
    rr = t.rollup_region_daily
    if region_ids is None:
        conn.execute(delete(rr))
        conn.execute(text(_REBUILD_REGION.format(where="")))
        return
    ids = sorted({r for r in region_ids if r is not None})
    if not ids:
        return
    conn.execute(delete(rr).where(rr.c.region_id.in_(ids)))
    names = {f"r{i}": rid for i, rid in enumerate(ids)}
    conn.execute(text(_REBUILD_REGION.format(where=f" AND s.region_id IN ({', '.join(':' + n for n in names)})")),
                 names)


def move_store(conn, store_id: str, region_id: str | None) -> str | None:
    """Put the store in ``region_id`` (None: no region) and rebuild the old and new region rollups in the
    same transaction; returns the old region."""
    # FOR UPDATE waits for ingests holding the share lock (and for another move) to finish, so the
    # rebuild below reads every delta they made and no later delta goes to the old region
    old = conn.execute(select(t.stores.c.region_id).where(t.stores.c.id == store_id).with_for_update()).scalar()
    conn.execute(update(t.stores).where(t.stores.c.id == store_id).values(region_id=region_id))
    if old != region_id:
        rebuild_regions(conn, [old, region_id])
    return old


def whole_regions(conn, store_ids: list[str]) -> tuple[list[str], list[str]]:
    """Split ``store_ids`` into regions whose every store is asked for and the stores left over."""
    s = t.stores
    wanted = set(store_ids)
    members: dict[str, set[str]] = defaultdict(set)
    asked = select(s.c.region_id).where(s.c.id.in_(store_ids), s.c.region_id.is_not(None))
    for sid, rid in conn.execute(select(s.c.id, s.c.region_id).where(s.c.region_id.in_(asked))):
        members[rid].add(sid)
    whole = sorted(rid for rid, m in members.items() if m <= wanted)
    covered = set().union(*(members[r] for r in whole)) if whole else set()
    return whole, [sid for sid in store_ids if sid not in covered]
