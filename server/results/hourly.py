"""Figures per hour bucket of one local date, from ``rollup_hourly``; the same folded by local hour; and
local hours of several stores and dates in one query (Today's strips and their usual hours)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from hymy.figures import Figure, from_rows, merge

from .. import tables as t
from ..localtime import bucket_index, hours_of_day
from .weekday_hour import local_hour_sql

h = t.rollup_hourly


class Bucket(NamedTuple):
    """One hour bucket: its UTC start, its local start with offset (``2026-11-23T10:00+02:00``), its figure."""

    hour_utc: str
    hour: str
    figure: Figure


def buckets_of(tz: str, day: date, rows) -> list[Bucket]:
    """Every hour bucket of ``day`` in zone ``tz`` with the figure of its ``(hour_utc, scale, mood, counted,
    filtered)`` rows. Each row counts in the bucket holding its ``hour_utc`` (not only one equal to it), so
    rows bucketed by an earlier rule are never left out: the hours always add up to the day's N."""
    hours = hours_of_day(day, tz)
    starts = [hu for hu, _ in hours]
    per_bucket: list[list] = [[] for _ in hours]
    for hour, scale, mood, counted, filtered in rows if hours else ():  # a date the zone skipped has none
        per_bucket[bucket_index(starts, hour)].append((scale, mood, counted, filtered))
    return [Bucket(hu, label, from_rows(per_bucket[i])) for i, (hu, label) in enumerate(hours)]


def hour_buckets(conn: Connection, store_id: str, tz: str, day: date) -> list[Bucket]:
    """Every hour bucket of ``day`` in zone ``tz`` (23, 24 or 25 on most DST days), in order, with its figure."""
    rows = conn.execute(select(h.c.hour_utc, h.c.scale, h.c.mood, h.c.counted, h.c.filtered)
                        .where(h.c.store_id == store_id, h.c.local_date == day.isoformat())).all()
    return buckets_of(tz, day, rows)


def by_local_hour(buckets: list[Bucket]) -> dict[int, Figure]:
    """Figures per local hour (0-23) of the buckets that had presses, each under the hour of its local
    start: on the autumn DST day the repeated hour is summed; Lord Howe's 30-minute "02:30" bucket is hour 2."""
    out: dict[int, list[Figure]] = {}
    for b in buckets:
        if b.figure.n or b.figure.filtered:
            out.setdefault(int(b.hour[11:13]), []).append(b.figure)
    return {hour: merge(figs) for hour, figs in out.items()}


def local_hours(conn: Connection, zones: Mapping[str, str], days: Collection[date]) -> dict[str, dict[date, dict[int, Figure]]]:
    """Figures per local hour (:func:`by_local_hour`) of every store of ``zones`` (store id -> its IANA
    zone) on every local date of ``days`` that has presses, in one query: O(stores x days x hours) rows.

    Today reads today and the days of its usual (``server.results.usual``) for all its stores this way.
    """
    if not zones or not days:
        return {}
    rows: dict[tuple[str, str], list] = defaultdict(list)
    for sid, day, hour, scale, mood, counted, filtered in conn.execute(
            select(h.c.store_id, h.c.local_date, h.c.hour_utc, h.c.scale, h.c.mood, h.c.counted, h.c.filtered)
            .where(h.c.store_id.in_(sorted(zones)), h.c.local_date.in_(sorted({d.isoformat() for d in days})))):
        rows[(sid, day)].append((hour, scale, mood, counted, filtered))
    out: dict[str, dict[date, dict[int, Figure]]] = defaultdict(dict)
    for (sid, day), rs in rows.items():
        local = date.fromisoformat(day)
        out[sid][local] = by_local_hour(buckets_of(zones[sid], local, rs))
    return dict(out)


def until_hour(conn: Connection, store_ids: list[str], tz: str, days: Collection[date], hour: int
               ) -> dict[str, dict[date, Figure]]:
    """Figures of ``store_ids`` (all in zone ``tz``) per local date of ``days``, counting only the presses
    of local hours up to and including ``hour`` (0-23): "so far today" and the same hours of other days.
    Summed in the database: O(stores x days x faces) rows."""
    if not store_ids or not days:
        return {}
    lh = local_hour_sql(tz, min(days), max(days))
    acc: dict[tuple[str, str], list] = defaultdict(list)
    for sid, day, scale, mood, counted, filtered in conn.execute(
            select(h.c.store_id, h.c.local_date, h.c.scale, h.c.mood, func.sum(h.c.counted), func.sum(h.c.filtered))
            .where(h.c.store_id.in_(sorted(store_ids)), h.c.local_date.in_(sorted({d.isoformat() for d in days})),
                   lh <= hour)
            .group_by(h.c.store_id, h.c.local_date, h.c.scale, h.c.mood)):
        acc[(sid, day)].append((scale, mood, int(counted or 0), int(filtered or 0)))
    out: dict[str, dict[date, Figure]] = defaultdict(dict)
    for (sid, day), rs in acc.items():
        out[sid][date.fromisoformat(day)] = from_rows(rs)
    return dict(out)
