"""Figures per (weekday, local hour) over a period (the heat map), summed in the database from ``rollup_hourly``;
and each cell's presses per week, as the heat map's statistics take them (``hymy.stats.Sample``)."""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import Date, Integer, case, cast, func, literal, select
from sqlalchemy.engine import Connection

from hymy.figures import Figure, from_rows
from hymy.hours import zone
from hymy.score import SCALES, face_weights
from hymy.stats import Sample
from hymy.timestamps import format_ts

from .. import tables as t
from ..localtime import day_bounds, offset_changes
from .settled import generations, memory, settled_before

h = t.rollup_hourly


def offsets(tz: str, first: date, last: date) -> list[tuple[str | None, int]]:
    """The zone's UTC offsets (minutes) over local dates ``first``..``last``: ``[(until_utc, minutes), ...]``
    where each offset holds before ``until_utc`` (RFC 3339, the exact instant of the change) and the last
    one has ``until_utc`` None."""
    return list(_offsets(tz, first, last))


@functools.lru_cache(maxsize=512)
def _offsets(tz: str, first: date, last: date) -> tuple[tuple[str | None, int], ...]:
    z = zone(tz)

    def minutes(at: datetime) -> int:
        return int(at.astimezone(z).utcoffset().total_seconds() // 60)

    start, _ = day_bounds(first, tz)
    _, end = day_bounds(last, tz)
    changes = offset_changes(tz, start, end)
    out: list[tuple[str | None, int]] = [(format_ts(c), minutes(c - timedelta(microseconds=1))) for c in changes]
    out.append((None, minutes(changes[-1] if changes else start)))
    return tuple(out)


def _offset_case(column, tz: str, first: date, last: date):
    parts = offsets(tz, first, last)
    if len(parts) == 1:
        return literal(parts[0][1])
    return case(*[(column < until, literal(minutes)) for until, minutes in parts[:-1]], else_=literal(parts[-1][1]))


def local_hour_sql(tz: str, first: date, last: date):
    """The local hour (0-23) of a ``rollup_hourly`` row's bucket, as SQL: its UTC start plus the zone's
    offset at that instant (one CASE over ``hour_utc`` for the period's offsets)."""
    offset = _offset_case(h.c.hour_utc, tz, first, last)
    minutes = (cast(func.substr(h.c.hour_utc, 12, 2), Integer) * 60
               + cast(func.substr(h.c.hour_utc, 15, 2), Integer) + offset + 1440)
    return cast((minutes % 1440) // 60, Integer).label("lh")


def _period(store_id: str, first: date, last: date) -> tuple:
    return (h.c.store_id == store_id, h.c.local_date >= first.isoformat(), h.c.local_date <= last.isoformat())


def weekday_hour(conn: Connection, store_id: str, tz: str, first: date, last: date) -> dict[tuple[int, int], Figure]:
    """Figures per (weekday 0=Monday, local hour 0-23) over local dates ``first``..``last`` in zone ``tz``.

    The local hour of a bucket is its UTC start plus the zone's offset at that instant; the offsets
    of the period (two per year where DST applies) become one CASE over ``hour_utc``, so the database
    returns at most 7 x 24 x faces rows whatever the period's length.
    """
    if conn.dialect.name == "postgresql":
        weekday = cast(func.extract("dow", cast(h.c.local_date, Date)), Integer)
    else:
        weekday = cast(func.strftime("%w", h.c.local_date), Integer)
    wd, lh = weekday.label("wd"), local_hour_sql(tz, first, last)
    q = (select(wd, lh, h.c.scale, h.c.mood, func.sum(h.c.counted), func.sum(h.c.filtered))
         .where(*_period(store_id, first, last)).group_by(wd, lh, h.c.scale, h.c.mood))
    acc: dict[tuple[int, int], list] = defaultdict(list)
    for w, hour, scale, mood, counted, filtered in conn.execute(q):
        acc[((int(w) + 6) % 7, int(hour))].append((scale, mood, int(counted or 0), int(filtered or 0)))
    return {k: from_rows(v) for k, v in acc.items()}


@functools.cache
def weight_sql(power: int):
    """A press's weight on the 0-1 scale (``hymy.score.face_weights``, the one definition) to ``power``,
    as SQL over (scale, mood); built once."""
    return case(*[((h.c.scale == scale) & (h.c.mood == m), literal((w / 100.0) ** power))
                  for scale in SCALES for m, w in enumerate(face_weights(scale), 1)], else_=literal(0.0))


def weekday_hour_weeks(conn: Connection, store_id: str, tz: str, first: date,
                       last: date) -> dict[tuple[int, int], list[Sample]]:
    """Each (weekday, local hour) cell's counted presses per week over ``first``..``last``: the cell's
    samples, one per local date that had presses in it (a cell is one weekday, so one date is one week),
    oldest first. What ``hymy.stats_compare.against_rest`` takes for the heat map
    (:func:`weekday_hour_and_weeks`'s second half)."""
    return weekday_hour_and_weeks(conn, store_id, tz, first, last)[1]


class _Weeks(NamedTuple):
    """A period's rows per heat-map cell, in a form two periods add up in: counted presses per scale and
    mood, filtered presses, and the samples of its dates (oldest first)."""

    counted: dict[tuple[int, int], dict[int, tuple[int, ...]]]
    filtered: dict[tuple[int, int], int]
    weeks: dict[tuple[int, int], tuple[Sample, ...]]


def weekday_hour_and_weeks(conn: Connection, store_id: str, tz: str, first: date, last: date
                           ) -> tuple[dict[tuple[int, int], Figure], dict[tuple[int, int], list[Sample]]]:
    """:func:`weekday_hour`'s figures and :func:`weekday_hour_weeks`'s samples from one pass over the
    period's rows (the heat map needs both): the database sums each (local date, local hour, scale)'s
    presses per face, O(days x hours) rows, and each date's samples are taken from those whole counts
    (``hymy.stats.Sample.from_faces``, the sums a figure's own sample would have).

    The dates before ``results.settled.settled_before`` are remembered under the store's generation
    (``results.settled``), so a year's heat map reads its last days only; the two parts add up to what
    one read of the whole period gives (whole counts added, each date's samples in date order)."""
    lh = local_hour_sql(tz, first, last)
    split = min(max(first, settled_before()), last + timedelta(days=1))  # the first date read every time
    parts = []
    if split > first:  # one entry per store, zone and length of period: tomorrow's replaces today's
        gens = generations(conn, [store_id])
        key, which = ("weeks", store_id, tz, (last - first).days), (first, split, tuple(offsets(tz, first, last)))
        mem = memory(conn)
        got = mem.take([key], gens).get(key)
        if got is None or got[0] != which:
            got = (which, _read_weeks(conn, store_id, lh, first, split - timedelta(days=1)))
            mem.keep({key: got}, gens, weight=1 + sum(len(w) for w in got[1].weeks.values()))
        parts.append(got[1])
    if split <= last:
        parts.append(_read_weeks(conn, store_id, lh, split, last))
    counted: dict[tuple[int, int], dict[int, list[int]]] = defaultdict(dict)
    filtered: dict[tuple[int, int], int] = defaultdict(int)
    weeks: dict[tuple[int, int], list[Sample]] = defaultdict(list)
    for part in parts:
        for cell, per_scale in part.counted.items():
            for scale, per_mood in per_scale.items():
                have = counted[cell].get(scale)
                counted[cell][scale] = list(per_mood) if have is None else [a + b for a, b in zip(have, per_mood)]  # noqa: B905
        for cell, n in part.filtered.items():
            filtered[cell] += n
        for cell, samples in part.weeks.items():
            weeks[cell] += samples
    figures = {cell: from_rows([(sc, m, c, 0) for sc, per_mood in per_scale.items() for m, c in enumerate(per_mood, 1)]
                               + [(min(per_scale), 1, 0, filtered[cell])]) for cell, per_scale in counted.items()}
    return figures, dict(weeks)


def _read_weeks(conn: Connection, store_id: str, lh, first: date, last: date) -> _Weeks:
    """The rows of local dates ``first``..``last`` per cell (``lh``: :func:`local_hour_sql` of the whole
    period shown, so a row's local hour never depends on how the period is split)."""
    faces = [func.sum(case((h.c.mood == m, h.c.counted), else_=0)) for m in range(1, max(SCALES) + 1)]
    q = (select(h.c.local_date, lh, h.c.scale, func.sum(h.c.filtered), *faces)
         .where(*_period(store_id, first, last)).group_by(h.c.local_date, lh, h.c.scale)
         .order_by(h.c.local_date, lh, h.c.scale))
    rows = conn.execute(q).all()
    counted: dict[tuple[int, int], dict[int, tuple[int, ...]]] = defaultdict(dict)  # cell -> scale -> per mood
    filtered: dict[tuple[int, int], int] = defaultdict(int)
    weekday: dict[str, int] = {}
    for day, hour, scale, filt, *per_mood in rows:
        wd = weekday.get(day)
        if wd is None:
            wd = weekday[day] = date.fromisoformat(day).weekday()
        cell = (wd, int(hour))
        have = counted[cell].get(scale)
        counted[cell][scale] = tuple(per_mood[:scale]) if have is None else tuple(a + b for a, b in zip(have, per_mood))  # noqa: B905
        filtered[cell] += filt or 0
    weeks: dict[tuple[int, int], list[Sample]] = defaultdict(list)
    for (day, hour), group in groupby(rows, key=itemgetter(0, 1)):  # in date order: oldest week first
        parts = [(r[2], r[4:4 + r[2]]) for r in group]
        if len(parts) == 1:
            sample = Sample.from_faces(*parts[0])
        else:  # presses on more than one scale: in a figure's own order, scale then mood
            sample = Sample.from_tally((sc, m, c) for sc, per_mood in parts for m, c in enumerate(per_mood, 1) if c)
        if sample.n:
            weeks[(weekday[day], int(hour))].append(sample)
    return _Weeks(dict(counted), dict(filtered), {cell: tuple(w) for cell, w in weeks.items()})
