"""Figures per hour bucket of one local date, from ``rollup_hourly``; the same folded by local hour; and
local hours of several stores and dates in one query (Today's strips and their usual hours)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import func, select, union_all
from sqlalchemy.engine import Connection

from hymy.figures import Figure, from_rows, merge, sample_of_rows
from hymy.hours import zone
from hymy.stats import Sample
from hymy.timestamps import format_ts

from .. import tables as t
from ..localtime import bucket_index, hours_of_day
from .settled import per_store_date
from .weekday_hour import weight_sql

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


@lru_cache(maxsize=4096)
def _local_hours_of(day: date, tz: str) -> tuple[list[str], tuple[int, ...], dict[str, int]]:
    """``day``'s bucket starts (``hour_utc``), the local hour (0-23) of each, and the two as a mapping."""
    hours = hours_of_day(day, tz)
    starts = [hu for hu, _ in hours]
    local = tuple(int(label[11:13]) for _, label in hours)
    return starts, local, dict(zip(starts, local, strict=True))


def local_hour(day: date, tz: str, hour_utc: str) -> int | None:
    """The local hour (0-23) of the bucket of ``day`` holding the instant ``hour_utc``, as
    :func:`by_local_hour` counts it; None on a date the zone skipped."""
    starts, local, exact = _local_hours_of(day, tz)
    hour = exact.get(hour_utc)
    if hour is None and starts:
        hour = local[bucket_index(starts, hour_utc)]
    return hour


def _rows_by_hour(conn: Connection, zones: Mapping[str, str], days: Collection[date]):
    """``(store, local date, local hour, scale, mood, counted, filtered)`` rows of ``zones``' stores on
    ``days``, in one query."""
    where = [h.c.store_id.in_(sorted(zones)), h.c.local_date.in_(sorted({d.isoformat() for d in days}))]
    parsed: dict[str, date] = {}
    for sid, day, hour_utc, scale, mood, counted, filtered in conn.execute(
            select(h.c.store_id, h.c.local_date, h.c.hour_utc, h.c.scale, h.c.mood, h.c.counted, h.c.filtered)
            .where(*where)):
        local = parsed.get(day) or parsed.setdefault(day, date.fromisoformat(day))
        hour = local_hour(local, zones[sid], hour_utc)
        if hour is not None:
            yield sid, local, hour, scale, mood, counted, filtered


def local_hours(conn: Connection, zones: Mapping[str, str], days: Collection[date]) -> dict[str, dict[date, dict[int, Figure]]]:
    """Figures per local hour (as :func:`by_local_hour` counts them) of every store of ``zones`` (store id
    -> its IANA zone) on every local date of ``days`` that has presses, in one query: O(stores x days x
    hours) rows. Today reads its stores' hours this way."""
    if not zones or not days:
        return {}
    rows: dict[tuple[str, date, int], list] = defaultdict(list)
    for sid, day, hour, scale, mood, counted, filtered in _rows_by_hour(conn, zones, days):
        rows[(sid, day, hour)].append((scale, mood, counted, filtered))
    out: dict[str, dict[date, dict[int, Figure]]] = defaultdict(lambda: defaultdict(dict))
    for (sid, day, hour), rs in rows.items():
        out[sid][day][hour] = from_rows(rs)
    return {sid: dict(per_day) for sid, per_day in out.items()}


def hour_samples(conn: Connection, zones: Mapping[str, str], days: Collection[date]) -> dict[str, dict[date, dict[int, Sample]]]:
    """Counted presses per store, local date and local hour as the statistics take them
    (``hymy.stats.Sample``), like :func:`local_hours` without building figures: the usual days of Today's
    hours, read for all its stores at once. N and the weights' sums are added up in the database; settled
    dates are remembered (``results.settled``: the values are shared, never change them)."""
    if not zones or not days:
        return {}
    return per_store_date(conn, "hour_samples", list(zones), set(days),
                          lambda ids, dates: _hour_samples(conn, {sid: zones[sid] for sid in ids}, dates), tags=zones,
                          weight=24)


def _hour_samples(conn: Connection, zones: Mapping[str, str], days: Collection[date]) -> dict[str, dict[date, dict[int, Sample]]]:
    """:func:`hour_samples` read from the database."""
    acc: dict[tuple[str, date, int], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    parsed: dict[str, date] = {}
    for sid, day, hour_utc, n, total, squares in conn.execute(
            select(h.c.store_id, h.c.local_date, h.c.hour_utc, func.sum(h.c.counted),
                   func.sum(h.c.counted * weight_sql(1)), func.sum(h.c.counted * weight_sql(2)))
            .where(h.c.store_id.in_(sorted(zones)), h.c.local_date.in_(sorted({d.isoformat() for d in days})),
                   h.c.counted > 0)
            .group_by(h.c.store_id, h.c.local_date, h.c.hour_utc)).all():
        local = parsed.get(day) or parsed.setdefault(day, date.fromisoformat(day))
        hour = local_hour(local, zones[sid], hour_utc)
        if hour is not None:
            a = acc[(sid, local, hour)]  # on the autumn DST day two buckets share a local hour
            a[0] += n
            a[1] += total
            a[2] += squares
    out: dict[str, dict[date, dict[int, Sample]]] = defaultdict(lambda: defaultdict(dict))
    for (sid, day, hour), (n, total, squares) in acc.items():
        out[sid][day][hour] = Sample(int(n), float(total), float(squares))
    return {sid: dict(per_day) for sid, per_day in out.items()}


def _until_rows(conn: Connection, store_ids: list[str], tz: str, days: Collection[date], hour: int
                ) -> dict[tuple[str, str], list[tuple[int, int, int, int]]]:
    """``(scale, mood, counted, filtered)`` per (store id, ISO local date) of :func:`until_hour`'s hours."""
    z = zone(tz)
    ids = sorted(store_ids)
    parts = []
    for d in sorted(set(days)):  # one part per date, so each row is checked against its own date's end
        where = [h.c.store_id.in_(ids), h.c.local_date == d.isoformat()]
        if hour < 23:
            where.append(h.c.hour_utc < format_ts(datetime.combine(d, time(hour + 1), tzinfo=z).astimezone(UTC)))
        parts.append(select(h.c.store_id, h.c.local_date, h.c.scale, h.c.mood, func.sum(h.c.counted),
                            func.sum(h.c.filtered)).where(*where)
                     .group_by(h.c.store_id, h.c.local_date, h.c.scale, h.c.mood))
    acc: dict[tuple[str, str], list] = defaultdict(list)
    for sid, day, scale, mood, counted, filtered in conn.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
        acc[(sid, day)].append((scale, mood, int(counted or 0), int(filtered or 0)))
    return acc


def until_hour(conn: Connection, store_ids: list[str], tz: str, days: Collection[date], hour: int
               ) -> dict[str, dict[date, Figure]]:
    """Figures of ``store_ids`` (all in zone ``tz``) per local date of ``days``, counting only the presses
    of local hours up to and including ``hour`` (0-23): "so far today" and the same hours of other days.

    Each date's hours end at one instant (its local ``hour + 1``:00 in UTC; a DST gap's at the jump), so
    the database compares ``hour_utc`` as text, on the covering index, one date at a time, and sums:
    O(stores x days x faces) rows come back."""
    if not store_ids or not days:
        return {}
    out: dict[str, dict[date, Figure]] = defaultdict(dict)
    for (sid, day), rs in _until_rows(conn, store_ids, tz, days, hour).items():
        out[sid][date.fromisoformat(day)] = from_rows(rs)
    return dict(out)


def until_hour_samples(conn: Connection, store_ids: list[str], tz: str, days: Collection[date], hour: int
                       ) -> dict[str, dict[date, Sample]]:
    """:func:`until_hour`'s counted presses as the statistics take them, without building figures: for
    each store and date exactly ``until_hour(...)[store][date].sample`` (``hymy.figures.sample_of_rows``).
    Today's table judges a hundred stores' day so far against nine days each this way; the settled dates
    (its eight usual days) are remembered (``results.settled``), so a page reads only today's rows."""
    if not store_ids or not days:
        return {}
    return per_store_date(conn, ("until_hour", tz, hour), store_ids, set(days),
                          lambda ids, dates: _until_hour_samples(conn, ids, tz, dates, hour))


def _until_hour_samples(conn: Connection, store_ids: list[str], tz: str, days: Collection[date], hour: int
                        ) -> dict[str, dict[date, Sample]]:
    """:func:`until_hour_samples` read from the database."""
    out: dict[str, dict[date, Sample]] = defaultdict(dict)
    parsed: dict[str, date] = {}
    for (sid, day), rs in _until_rows(conn, store_ids, tz, days, hour).items():
        local = parsed.get(day) or parsed.setdefault(day, date.fromisoformat(day))
        out[sid][local] = sample_of_rows(rs)
    return dict(out)
