"""Is a result usual for its store? Each figure against its own baseline (``hymy.stats_compare``), judged a
family at a time with Benjamini-Hochberg, for every reader: the manager API, the reports and the dashboard
take their verdicts from here, so they can never disagree. The method: docs/statistics.md.

Baselines (the same weekday of the :data:`~hymy.stats_compare.BASELINE_WEEKS` weeks before):

- a **day** against those days (family: the days shown); a day not yet over is not compared
  (a morning is not a whole day), only described;
- **today so far** against those days up to the same local hour (family: the stores shown);
- an **hour** against the same local hour of those days (family: the hours of the day);
- a **heat-map cell** against the rest of the store's week over the same weeks (family: the cells).

The pure functions (``judge_*``) take figures; the others read them through ``server.results`` first.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, timedelta

from sqlalchemy.engine import Connection

from hymy.figures import Figure, empty, merge
from hymy.stats import IndexResult, Sample, pool
from hymy.stats_compare import BASELINE_WEEKS, against_baseline, against_rest, baseline_days, compare

from .daily import daily, dates
from .hourly import Bucket, hour_buckets, hour_samples, local_hours, until_hour_samples
from .weekday_hour import weekday_hour_and_weeks

_NONE = Sample()
#: Days of history a day's baseline reaches back.
BASELINE_SPAN = timedelta(weeks=BASELINE_WEEKS)


def _sample(f: Figure | None) -> Sample:
    return _NONE if f is None else f.sample


# ----------------------------------------------------------------------------- days


def judge_days(figs: Mapping[date, Figure], days: Sequence[date], over: Collection[date] | None = None
               ) -> dict[date, IndexResult]:
    """Each of ``days`` against the same weekday of the 8 weeks before it, as one family. ``figs`` holds
    the figures of the days and of their baselines (days without presses may be absent). Only the days in
    ``over`` (default: all) are compared; the others are described (interval, verdict None)."""
    judged = [d for d in days if over is None or d in over]
    results = against_baseline([_sample(figs.get(d)) for d in judged],
                               [[_sample(figs.get(b)) for b in baseline_days(d)] for d in judged])
    out = {d: figs.get(d, empty()).described() for d in days}
    out.update(zip(judged, results, strict=True))
    return out


def days_vs_usual(conn: Connection, store_ids: list[str], first: date, last: date, over_before: date
                  ) -> tuple[dict[date, Figure], dict[date, IndexResult]]:
    """Every local date ``first``..``last`` with its figure (``results.daily``, summed over ``store_ids``)
    and its verdict against its usual; days from ``over_before`` on (not over yet) are only described."""
    figs = daily(conn, store_ids, first - BASELINE_SPAN, last)
    shown = {d: figs[d] for d in dates(first, last)}
    return shown, judge_days(figs, list(shown), over={d for d in shown if d < over_before})


def week_vs_usual(conn: Connection, store_ids: list[str], monday: date) -> tuple[Figure, IndexResult]:
    """The week from ``monday`` (seven local dates) against the 8 weeks before it, alone: the weekly
    report's headline."""
    figs = daily(conn, store_ids, monday - BASELINE_SPAN, monday + timedelta(days=6))
    weeks = [merge(figs[monday - timedelta(weeks=k) + timedelta(days=i)] for i in range(7))
             for k in range(BASELINE_WEEKS + 1)]
    return weeks[0], compare(weeks[0].sample, [w.sample for w in weeks[1:]])


# ----------------------------------------------------------------------------- today so far


def judge_so_far(days: Mapping[str, Mapping[int, Figure]], usual: Mapping[str, Sequence[Mapping[int, Sample] | None]],
                 until: Mapping[str, int]) -> dict[str, IndexResult]:
    """What :func:`days_so_far` judges, from the hours :func:`usual_hours` read (no query): each store's
    local hours up to ``until`` against the same hours of its usual days, the stores as one family."""
    sids = list(days)
    today = [pool(f.sample for h, f in days[sid].items() if h <= until[sid]) for sid in sids]
    weeks = [[pool(x for h, x in (u or {}).items() if h <= until[sid]) for u in usual[sid]] for sid in sids]
    return dict(zip(sids, against_baseline(today, weeks), strict=True))


def days_so_far(conn: Connection, zones: Mapping[str, str], days: Mapping[str, date], until: Mapping[str, int]
                ) -> dict[str, IndexResult]:
    """The verdict of each store's day so far (``days``: its local date; ``until``: its local hours up to
    and including this one) against the same hours of its usual days, the stores as one family.

    A morning is compared with usual mornings, never with whole days: stores are often happier (or
    grumpier) at some hours of the day. One query per zone: O(stores x 9 days x faces) rows, taken as
    samples (``results.until_hour_samples``) without building a figure per store and day.
    """
    by_zone: dict[tuple[str, int], list[str]] = {}
    for sid in days:
        by_zone.setdefault((zones[sid], until[sid]), []).append(sid)
    got: dict[str, dict[date, Sample]] = {}
    for (tz, hour), sids in by_zone.items():
        wanted = {d for sid in sids for d in (days[sid], *baseline_days(days[sid]))}
        got.update(until_hour_samples(conn, sids, tz, wanted, hour))
    sids = list(days)
    results = against_baseline([got.get(sid, {}).get(days[sid], _NONE) for sid in sids],
                               [[got.get(sid, {}).get(b, _NONE) for b in baseline_days(days[sid])] for sid in sids])
    return dict(zip(sids, results, strict=True))


# ----------------------------------------------------------------------------- hours


def judge_hours(day: Mapping[int, Figure], usual: Sequence[Mapping[int, Sample] | None],
                hours: Sequence[int]) -> dict[int, IndexResult]:
    """Each local hour of ``hours`` on a day (its figures per local hour) against the same hour of its usual
    days (their presses per local hour, :func:`usual_hours`), as one family: the day's hours; those with
    fewer than 20 presses on either side are ``too_few`` and left out of it."""
    results = against_baseline([_sample(day.get(h)) for h in hours],
                               [[(u or {}).get(h, _NONE) for u in usual] for h in hours])
    return dict(zip(hours, results, strict=True))


def usual_hours(conn: Connection, zones: Mapping[str, str], days: Mapping[str, date]
                ) -> tuple[dict[str, dict[int, Figure]], dict[str, list[dict[int, Sample] | None]]]:
    """For each store (``zones``: id -> zone; ``days``: id -> the local date shown) the figures per local
    hour of that day, and the presses per local hour of each day of its baseline (most recent first):
    two queries for all the stores."""
    shown = local_hours(conn, zones, set(days.values()))
    history = hour_samples(conn, zones, {b for day in days.values() for b in baseline_days(day)})
    today = {sid: shown.get(sid, {}).get(day, {}) for sid, day in days.items()}
    usual = {sid: [history.get(sid, {}).get(b) for b in baseline_days(day)] for sid, day in days.items()}
    return today, usual


def hours_vs_usual(conn: Connection, store_id: str, tz: str, day: date) -> tuple[list[Bucket], list[IndexResult]]:
    """The hour buckets of ``day`` (``results.hour_buckets``) and each one's verdict against the same local
    hour of the usual days, as one family."""
    buckets = hour_buckets(conn, store_id, tz, day)
    history = hour_samples(conn, {store_id: tz}, baseline_days(day)).get(store_id, {})
    usual = [history.get(b, {}) for b in baseline_days(day)]
    local = [int(b.hour[11:13]) for b in buckets]
    results = against_baseline([b.figure.sample for b in buckets], [[u.get(h, _NONE) for u in usual] for h in local])
    return buckets, results


# ----------------------------------------------------------------------------- the week (heat map)


def week_vs_rest(conn: Connection, store_id: str, tz: str, first: date, last: date
                 ) -> tuple[dict[tuple[int, int], Figure], dict[tuple[int, int], IndexResult]]:
    """Figures per (weekday, local hour) over ``first``..``last`` (``results.weekday_hour``, read with the
    cells' weekly samples in one pass: ``results.weekday_hour_and_weeks``) and each
    cell's verdict against the rest of the store's week over the same weeks (``against_rest``), as one
    family: where in the week the mood is lower or higher, recurring week after week."""
    cells, weeks = weekday_hour_and_weeks(conn, store_id, tz, first, last)
    keys = sorted(weeks)
    results = against_rest([weeks[k] for k in keys])
    return cells, dict(zip(keys, results, strict=True))


__all__ = ["BASELINE_SPAN", "judge_days", "days_vs_usual", "week_vs_usual", "judge_so_far", "days_so_far", "judge_hours", "usual_hours",
           "hours_vs_usual", "week_vs_rest"]
