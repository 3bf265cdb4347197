"""Figures per local date and per period, from ``rollup_daily`` (store x local date x scale x mood) and
``rollup_region_daily`` (the same per region): O(stores x days) rows at most, O(days) for a whole region."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from hymy.figures import Figure, from_rows

from .. import tables as t
from ..rollups import whole_regions

d = t.rollup_daily


def dates(first: date, last: date) -> list[date]:
    """Every local date from ``first`` to ``last`` inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _summed_rows(conn: Connection, table, key, ids: list[str], first: date, last: date) -> list:
    c = table.c
    return conn.execute(select(c.local_date, c.scale, c.mood, func.sum(c.counted), func.sum(c.filtered))
                        .where(key.in_(ids), c.local_date >= first.isoformat(), c.local_date <= last.isoformat())
                        .group_by(c.local_date, c.scale, c.mood)).all()


def daily(conn: Connection, store_ids: list[str], first: date, last: date) -> dict[date, Figure]:
    """Every local date ``first``..``last`` (in order, days without presses included) with its figure,
    summed over ``store_ids``.

    Regions whose every store is asked for are read from the region rollup (O(days) rows however many
    stores they have); other stores from their own rollups.
    """
    regions, stores = whole_regions(conn, store_ids) if len(store_ids) > 1 else ([], list(store_ids))
    rows = []
    if regions:
        rows += _summed_rows(conn, t.rollup_region_daily, t.rollup_region_daily.c.region_id, regions, first, last)
    if stores:
        rows += _summed_rows(conn, d, d.c.store_id, stores, first, last)
    per_day: dict[str, list] = defaultdict(list)
    for day, scale, mood, counted, filtered in rows:
        per_day[day].append((scale, mood, int(counted or 0), int(filtered or 0)))
    return {day: from_rows(per_day.get(day.isoformat(), ())) for day in dates(first, last)}


def daily_by_store(conn: Connection, store_ids: list[str], first: date, last: date,
                   only: Collection[date] | None = None) -> dict[str, dict[date, Figure]]:
    """Figures per store per local date, ``first``..``last`` inclusive (or just the dates ``only``);
    dates without presses are absent. One row per store, date and face: the rollup's own key, in order."""
    if not store_ids:
        return {}
    where = ([d.c.local_date.in_(sorted(x.isoformat() for x in only))] if only is not None else
             [d.c.local_date >= first.isoformat(), d.c.local_date <= last.isoformat()])
    rows: dict[tuple[str, str], list] = defaultdict(list)
    for sid, day, scale, mood, counted, filtered in conn.execute(
            select(d.c.store_id, d.c.local_date, d.c.scale, d.c.mood, d.c.counted, d.c.filtered)
            .where(d.c.store_id.in_(store_ids), *where)):
        rows[(sid, day)].append((scale, mood, counted, filtered))
    out: dict[str, dict[date, Figure]] = defaultdict(dict)
    for (sid, day), rs in rows.items():
        out[sid][date.fromisoformat(day)] = from_rows(rs)
    return dict(out)


def totals(conn: Connection, store_ids: list[str], first: date, last: date) -> dict[str, Figure]:
    """One figure per store for the whole period ``first``..``last`` (stores without rows are absent),
    summed in the database: at most stores x faces rows come back."""
    if not store_ids:
        return {}
    acc: dict[str, list] = defaultdict(list)
    for sid, scale, mood, counted, filtered in conn.execute(
            select(d.c.store_id, d.c.scale, d.c.mood, func.sum(d.c.counted), func.sum(d.c.filtered))
            .where(d.c.store_id.in_(store_ids), d.c.local_date >= first.isoformat(),
                   d.c.local_date <= last.isoformat())
            .group_by(d.c.store_id, d.c.scale, d.c.mood)):
        acc[sid].append((scale, mood, int(counted or 0), int(filtered or 0)))
    return {sid: from_rows(rs) for sid, rs in acc.items()}
