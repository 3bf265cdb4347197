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
"""

from __future__ import annotations

import functools
from collections import defaultdict

from sqlalchemy import bindparam, delete, select, text, update

from . import tables as t
from .db import insert_for

#: The region rollup from the store rollup (a migration, ``move_store`` and the benchmark's fill use it).
_REBUILD_REGION = (
    "INSERT INTO rollup_region_daily (region_id, local_date, scale, mood, counted, filtered) "
    "SELECT s.region_id, d.local_date, d.scale, d.mood, SUM(d.counted), SUM(d.filtered) "
    "FROM rollup_daily d JOIN stores s ON s.id = d.store_id WHERE s.region_id IS NOT NULL{where} "
    "GROUP BY s.region_id, d.local_date, d.scale, d.mood")


_REGION_OF = select(t.stores.c.region_id).where(t.stores.c.id == bindparam("store_id"))
_REGION_OF_SHARED = _REGION_OF.with_for_update(read=True)


def region_of(conn, store_id: str) -> str | None:
    """The store's region, the store row share-locked on PostgreSQL until the transaction ends."""
    q = _REGION_OF_SHARED if conn.dialect.name == "postgresql" else _REGION_OF
    return conn.execute(q, {"store_id": store_id}).scalar()


@functools.cache
def _upsert_stmt(dialect: str, table_name: str, sums: tuple[str, ...]):
    """``INSERT ... ON CONFLICT (primary key) DO UPDATE SET c = c + excluded.c`` (built once per dialect)."""
    table = t.metadata.tables[table_name]
    ins = insert_for(dialect)(table)
    return ins.on_conflict_do_update(index_elements=[c.name for c in table.primary_key.columns],
                                     set_={c: table.c[c] + ins.excluded[c] for c in sums})


def _upsert(conn, table, rows: list[dict], sums: tuple[str, ...] = ("counted", "filtered")) -> None:
    if rows:
        conn.execute(_upsert_stmt(conn.dialect.name, table.name, sums), rows)


def bump_hourly(conn, store_id: str, counts: dict[tuple, list[int]]) -> None:
    """Add ``(counted, filtered)`` deltas per ``(local_date, hour_utc, scale, mood)`` (in key order) to
    the store's hourly and daily rollups and to its region's daily rollup."""
    counts = {k: v for k, v in counts.items() if v[0] or v[1]}
    if not counts:
        return
    region = region_of(conn, store_id)  # first: the share lock before any rollup row (see module doc)
    _upsert(conn, t.rollup_hourly, [
        {"store_id": store_id, "local_date": k[0], "hour_utc": k[1], "scale": k[2], "mood": k[3],
         "counted": v[0], "filtered": v[1]} for k, v in sorted(counts.items())])
    daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for k, v in counts.items():
        d = daily[(k[0], k[2], k[3])]
        d[0] += v[0]
        d[1] += v[1]
    days = [({"local_date": k[0], "scale": k[1], "mood": k[2], "counted": v[0], "filtered": v[1]})
            for k, v in sorted(daily.items()) if v[0] or v[1]]
    _upsert(conn, t.rollup_daily, [{"store_id": store_id, **d} for d in days])
    if region is not None:
        _upsert(conn, t.rollup_region_daily, [{"region_id": region, **d} for d in days])


def bump_followups(conn, store_id: str, counts: dict[tuple, int]) -> None:
    """Add counts per ``(local_date, hour_utc, kind, value)`` of reason / praise choices."""
    _upsert(conn, t.rollup_followups, [
        {"store_id": store_id, "local_date": k[0], "hour_utc": k[1], "kind": k[2], "value": k[3], "n": v}
        for k, v in sorted(counts.items()) if v], sums=("n",))


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
