"""Results from the rollups: daily and hourly per store and region, reason counts, CSV rows.

Every query reads rollup rows of the days asked (O(days), never O(responses)). Days are local dates in
the store's zone; hours are the day's hour buckets (``server.localtime``: 23, 24 or 25 on most DST days).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select

from hymy.score import score_tally

from . import tables as t
from .localtime import bucket_index, hours_of_day
from .rollups import whole_regions

h = t.rollup_hourly


def figures(tally: dict[tuple[int, int], int], filtered: int) -> dict:
    """N, counts per face, Happy Index, % positive / negative and the filtered count of one period."""
    s = score_tally((scale, mood, n) for (scale, mood), n in tally.items())
    counts: dict[str, int] = {}
    scales = sorted({scale for scale, _ in tally})
    for (_scale, mood), n in sorted(tally.items()):
        counts[str(mood)] = counts.get(str(mood), 0) + n
    return {
        "n": s.n, "counts": counts, "scales": scales,
        "happy_index": None if s.happy_index is None else round(s.happy_index, 1),
        "positive_pct": None if s.positive_pct is None else round(s.positive_pct, 1),
        "negative_pct": None if s.negative_pct is None else round(s.negative_pct, 1),
        "low_confidence": s.low_confidence, "filtered": filtered,
    }


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _daily_rows(conn, table, key, ids: list[str], start: date, end: date) -> list:
    return conn.execute(select(table.c.local_date, table.c.scale, table.c.mood, func.sum(table.c.counted),
                               func.sum(table.c.filtered))
                        .where(key.in_(ids), table.c.local_date >= start.isoformat(), table.c.local_date <= end.isoformat())
                        .group_by(table.c.local_date, table.c.scale, table.c.mood)).all()


def daily(conn, store_ids: list[str], start: date, end: date) -> list[dict]:
    """One entry per local date from ``start`` to ``end`` inclusive, summed over ``store_ids``.

    Regions whose every store is asked for are read from the region rollup (O(days) rows however many
    stores they have); other stores from their own rollups.
    """
    regions, stores = whole_regions(conn, store_ids) if len(store_ids) > 1 else ([], list(store_ids))
    rows = []
    if regions:
        rr = t.rollup_region_daily
        rows += _daily_rows(conn, rr, rr.c.region_id, regions, start, end)
    if stores:
        rows += _daily_rows(conn, t.rollup_daily, t.rollup_daily.c.store_id, stores, start, end)
    tallies: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    filtered: dict[str, int] = defaultdict(int)
    for day, scale, mood, counted, filt in rows:
        if counted:
            tallies[day][(scale, mood)] += int(counted)
        filtered[day] += int(filt or 0)
    return [{"date": d.isoformat(), **figures(tallies.get(d.isoformat(), {}), filtered.get(d.isoformat(), 0))}
            for d in _days(start, end)]


def total(rows: list[dict]) -> dict:
    """The whole period of ``daily`` rows as one figure set."""
    tally: dict[tuple[int, int], int] = defaultdict(int)
    filt = 0
    for r in rows:
        filt += r["filtered"]
        scale = r["scales"][0] if len(r["scales"]) == 1 else None
        for mood, n in r["counts"].items():
            tally[(scale or 4, int(mood))] += n
    return figures(tally, filt)


def hourly(conn, store_id: str, tz: str, day: date) -> list[dict]:
    """Every hour bucket of ``day`` with its figures; ``hour`` is the bucket's local start with offset.

    Each rollup row counts in the bucket holding its ``hour_utc`` (not only one equal to it), so rows
    bucketed by an earlier rule are never left out: the hours always add up to the day's N.
    """
    rows = conn.execute(select(h.c.hour_utc, h.c.scale, h.c.mood, h.c.counted, h.c.filtered)
                        .where(h.c.store_id == store_id, h.c.local_date == day.isoformat())).all()
    hours = hours_of_day(day, tz)
    starts = [hu for hu, _ in hours]
    tallies: list[dict] = [defaultdict(int) for _ in hours]
    filtered = [0] * len(hours)
    for hour, scale, mood, counted, filt in rows if hours else ():  # a date the zone skipped has none
        i = bucket_index(starts, hour)
        if counted:
            tallies[i][(scale, mood)] += counted
        filtered[i] += filt
    return [{"hour": label, "hour_utc": hu, **figures(tallies[i], filtered[i])}
            for i, (hu, label) in enumerate(hours)]


def followup_counts(conn, store_ids: list[str], start: date, end: date) -> list[dict]:
    """Reason and praise choices in the period: ``[{kind, value, n}]``, most frequent first."""
    f = t.rollup_followups
    rows = conn.execute(select(f.c.kind, f.c.value, func.sum(f.c.n)).where(
        f.c.store_id.in_(store_ids), f.c.local_date >= start.isoformat(), f.c.local_date <= end.isoformat()
    ).group_by(f.c.kind, f.c.value)).all()
    out = [{"kind": k, "value": v, "n": int(n)} for k, v, n in rows if n]
    return sorted(out, key=lambda r: (r["kind"], -r["n"], r["value"]))
