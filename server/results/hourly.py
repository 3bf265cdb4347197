"""Figures per hour bucket of one local date, from ``rollup_hourly``; and the same folded by local hour."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hymy.figures import Figure, from_rows, merge

from .. import tables as t
from ..localtime import bucket_index, hours_of_day

h = t.rollup_hourly


class Bucket(NamedTuple):
    """One hour bucket: its UTC start, its local start with offset (``2026-11-23T10:00+02:00``), its figure."""

    hour_utc: str
    hour: str
    figure: Figure


def hour_buckets(conn: Connection, store_id: str, tz: str, day: date) -> list[Bucket]:
    """Every hour bucket of ``day`` in zone ``tz`` (23, 24 or 25 on most DST days), in order, with its figure.

    Each rollup row counts in the bucket holding its ``hour_utc`` (not only one equal to it), so rows
    bucketed by an earlier rule are never left out: the hours always add up to the day's N.
    """
    hours = hours_of_day(day, tz)
    rows = conn.execute(select(h.c.hour_utc, h.c.scale, h.c.mood, h.c.counted, h.c.filtered)
                        .where(h.c.store_id == store_id, h.c.local_date == day.isoformat())).all()
    starts = [hu for hu, _ in hours]
    per_bucket: list[list] = [[] for _ in hours]
    for hour, scale, mood, counted, filtered in rows if hours else ():  # a date the zone skipped has none
        per_bucket[bucket_index(starts, hour)].append((scale, mood, counted, filtered))
    return [Bucket(hu, label, from_rows(per_bucket[i])) for i, (hu, label) in enumerate(hours)]


def by_local_hour(buckets: list[Bucket]) -> dict[int, Figure]:
    """Figures per local hour (0-23) of the buckets that had presses, each under the hour of its local
    start: on the autumn DST day the repeated hour is summed; Lord Howe's 30-minute "02:30" bucket is hour 2."""
    out: dict[int, list[Figure]] = {}
    for b in buckets:
        if b.figure.n or b.figure.filtered:
            out.setdefault(int(b.hour[11:13]), []).append(b.figure)
    return {hour: merge(figs) for hour, figs in out.items()}
