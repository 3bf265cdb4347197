"""Honest statistics, part 2: is a period lower or higher than usual, over a whole family of periods?

Pure: standard library only, no I/O. The method is in docs/statistics.md; in short:

- **Baseline**: the same weekday and hour (or the same weekday, for a day) over the previous
  :data:`BASELINE_WEEKS` (8) weeks (:func:`baseline_days`); or, for a recurring weekly pattern on the
  heat map, the rest of the store's week (:func:`against_rest`).
- **Test**: a confidence interval for the difference of the two indexes by Zou & Donner's MOVER,
  built from the two Wilson-type intervals of :mod:`hymy.stats` (Newcombe's hybrid score method for a
  difference of proportions, generalised to the Happy Index); the p-value is the smallest
  ``1 - level`` at which that interval excludes 0.
- **Week-to-week variation**: presses are not the only noise; a store's hour also moves from week to
  week. The variances are multiplied by a quasi-likelihood dispersion (at least 1) estimated from the
  baseline weeks, so "lower than usual" means outside the usual week-to-week range.
- **Multiple comparisons**: Benjamini-Hochberg over the family (the heat map's cells, the open hours of
  a day, the days of a range, the stores of a region); a period is lower / higher only when its
  adjusted q-value is at most ``alpha`` (0.05).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

from hymy.score import LOW_CONFIDENCE_N
from hymy.stats import (
    DEFAULT_LEVEL,
    HIGHER,
    LOWER,
    TOO_FEW,
    USUAL,
    IndexResult,
    Sample,
    check_fraction,
    effective_n,
    pool,
    sample_interval,
    wilson,
    z_value,
)

#: Weeks in a baseline: the same weekday (and hour) over the previous 8 weeks.
BASELINE_WEEKS = 8
#: False discovery rate of a family's "lower / higher than usual" verdicts.
DEFAULT_ALPHA = 0.05
#: Beyond this normal quantile a p-value is 0 for our purposes (p < 1e-300).
_Z_MAX = 37.0


def baseline_days(day: date, weeks: int = BASELINE_WEEKS) -> list[date]:
    """The local dates of ``day``'s baseline: the same weekday in each of the ``weeks`` weeks before it.

    Most recent first. Hours are matched on the local wall clock (a DST day's missing hour simply has no
    presses).
    """
    if type(weeks) is not int or weeks < 1:
        raise ValueError(f"weeks: {weeks!r} is not valid; use a whole number of weeks >= 1")
    return list(_baseline_days(day, weeks))


@lru_cache(maxsize=4096)
def _baseline_days(day: date, weeks: int) -> tuple[date, ...]:
    """:func:`baseline_days`, worked out once per date (Today asks it for every store, three times)."""
    return tuple(day - timedelta(weeks=k) for k in range(1, weeks + 1))


def _reach(z: float, lower: bool, x1: float, e1: float, x0: float, e0: float) -> float:
    """How far the MOVER interval of ``x1 - x0`` reaches from it towards 0 at quantile ``z``.

    ``lower`` True (the period is below its baseline): the distance to the interval's upper limit; False:
    to its lower limit. The period's side uses its limit towards the baseline, the baseline's the limit
    towards the period.
    """
    low1, high1 = wilson(x1, e1, z)
    low0, high0 = wilson(x0, e0, z)
    if lower:  # the upper limit of a negative difference
        return math.hypot(high1 - x1, x0 - low0)
    return math.hypot(x1 - low1, high0 - x0)


def _sides(period: Sample, baseline: Sample, dispersion: float) -> tuple[float, float, float, float]:
    """Means (0-1) and effective sizes of both sides: ``(x1, e1, x0, e0)``; checks the arguments."""
    if not period.n or not baseline.n:
        raise ValueError("period, baseline: both need presses to be compared")
    if not dispersion >= 1.0:
        raise ValueError(f"dispersion: {dispersion!r} is not valid; use a number >= 1")
    return (period.total / period.n, effective_n(period, dispersion),
            baseline.total / baseline.n, effective_n(baseline, dispersion))


def p_value(period: Sample, baseline: Sample, dispersion: float = 1.0) -> float:
    """Two-sided p-value of "the period's index differs from the baseline's" (MOVER with Wilson-type limits).

    ``dispersion`` (>= 1, default 1) multiplies both variances for week-to-week variation. Both samples
    need presses. The p-value is ``2 (1 - Φ(z*))`` for the ``z*`` at which the interval of the difference
    just touches 0, found by the Illinois (regula falsi) method.
    """
    x1, e1, x0, e0 = _sides(period, baseline, dispersion)
    d = abs(x1 - x0)
    if d == 0.0:
        return 1.0
    lower = x1 < x0

    def gap(z: float) -> float:
        return _reach(z, lower, x1, e1, x0, e0) - d

    a, fa, b, fb = 0.0, -d, _Z_MAX, gap(_Z_MAX)
    if fb <= 0.0:
        return 0.0
    side = 0
    for _ in range(200):
        c = (a * fb - b * fa) / (fb - fa)
        fc = gap(c)
        if fc == 0.0 or b - a < 1e-10:
            break
        if fc > 0.0:
            b, fb = c, fc
            if side == -1:
                fa /= 2.0
            side = -1
        else:
            a, fa = c, fc
            if side == 1:
                fb /= 2.0
            side = 1
    return min(1.0, math.erfc(c / math.sqrt(2.0)))


def difference_interval(period: Sample, baseline: Sample, level: float = DEFAULT_LEVEL,
                        dispersion: float = 1.0) -> tuple[float, float]:
    """The ``level`` interval (index points, -100..100) of ``period.index - baseline.index`` (MOVER)."""
    z = z_value(level)
    x1, e1, x0, e0 = _sides(period, baseline, dispersion)
    d = x1 - x0
    return 100.0 * (d - _reach(z, False, x1, e1, x0, e0)), 100.0 * (d + _reach(z, True, x1, e1, x0, e0))


def dispersion(series: Sequence[Sequence[Sample]]) -> float:
    """Quasi-likelihood dispersion (>= 1) of weekly indexes: how much more they vary than presses explain.

    ``series`` holds, per family member, its weekly samples (e.g. the 8 baseline Tuesdays 15-16). Each
    member contributes Pearson's ``Σ n_w (x̄_w - x̄)² / s²`` with (weeks with presses - 1) degrees of
    freedom; pooled over the family. Returns 1 when there is nothing to estimate from, or less variation
    than the presses alone explain.
    """
    statistic, freedom = 0.0, 0
    for weeks in series:
        weeks = [w for w in weeks if w.n]
        if len(weeks) < 2:
            continue
        pooled = pool(weeks)
        variance = pooled.variance
        if variance <= 0.0:
            continue
        mean = pooled.total / pooled.n
        statistic += sum(w.n * (w.total / w.n - mean) ** 2 for w in weeks) / variance
        freedom += len(weeks) - 1
    return max(1.0, statistic / freedom) if freedom else 1.0


def benjamini_hochberg(pvalues: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (q-values) of a family; None (not tested) stays None.

    ``q_(i) = min over j >= i of (m / j) p_(j)``, capped at 1, with ``m`` the number of tested members.
    Declaring every member with ``q <= alpha`` keeps the expected share of false claims at most ``alpha``.
    """
    tested = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    for p, i in tested:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"pvalues[{i}]: {p!r} is not a probability; use 0..1 or None")
    m = len(tested)
    adjusted: list[float | None] = [None] * len(pvalues)
    running = 1.0
    for rank in range(m, 0, -1):
        p, i = tested[rank - 1]
        running = min(running, p * m / rank)
        adjusted[i] = running
    return adjusted


def judge(pairs: Sequence[tuple[Sample, Sample]], *, alpha: float = DEFAULT_ALPHA,
          level: float = DEFAULT_LEVEL, dispersion: float = 1.0,
          min_n: int = LOW_CONFIDENCE_N) -> list[IndexResult]:
    """Verdicts for a family of ``(period, baseline)`` pairs, Benjamini-Hochberg adjusted over the family.

    A member is ``too_few`` when the period or its baseline has fewer than ``min_n`` presses (default
    ``hymy.score.LOW_CONFIDENCE_N``, 20) and is left out of the family; otherwise ``lower`` / ``higher``
    when its q-value is at most ``alpha`` (default 0.05), else ``usual``. Intervals are at ``level``.
    """
    check_fraction("alpha", alpha, DEFAULT_ALPHA)
    pvalues = [p_value(period, base, dispersion) if period.n >= min_n and base.n >= min_n else None
               for period, base in pairs]
    qvalues = benjamini_hochberg(pvalues)
    results = []
    for (period, base), p, q in zip(pairs, pvalues, qvalues, strict=True):
        if q is None:
            verdict = TOO_FEW
        elif q <= alpha:
            verdict = LOWER if period.total * base.n < base.total * period.n else HIGHER
        else:
            verdict = USUAL
        low, high = sample_interval(period, level)
        results.append(IndexResult(n=period.n, index=period.index, low=low, high=high, level=level,
                                   verdict=verdict, p=p, q=q, baseline_n=base.n, baseline_index=base.index))
    return results


def against_baseline(periods: Sequence[Sample], baselines: Sequence[Sequence[Sample]], *,
                     alpha: float = DEFAULT_ALPHA, level: float = DEFAULT_LEVEL,
                     min_n: int = LOW_CONFIDENCE_N) -> list[IndexResult]:
    """Each period against its own weekly baseline samples (e.g. today's hours against the same hours of
    :func:`baseline_days`), as one family; the dispersion is pooled over all the baselines' weeks."""
    if len(periods) != len(baselines):
        raise ValueError(f"baselines: {len(baselines)} given for {len(periods)} periods; give one per period")
    return judge([(p, pool(weeks)) for p, weeks in zip(periods, baselines, strict=True)], alpha=alpha,
                 level=level, dispersion=dispersion(baselines), min_n=min_n)


def compare(period: Sample, baseline_weeks: Sequence[Sample], *, alpha: float = DEFAULT_ALPHA,
            level: float = DEFAULT_LEVEL, min_n: int = LOW_CONFIDENCE_N) -> IndexResult:
    """One period against its weekly baseline, alone (a family of one; q = p), e.g. today against the
    same weekday of :func:`baseline_days`."""
    return against_baseline([period], [baseline_weeks], alpha=alpha, level=level, min_n=min_n)[0]


def against_rest(cells: Sequence[Sequence[Sample]], *, alpha: float = DEFAULT_ALPHA,
                 level: float = DEFAULT_LEVEL, min_n: int = LOW_CONFIDENCE_N) -> list[IndexResult]:
    """Each cell against all the other cells together, as one family: where in the week the mood differs.

    ``cells`` holds per cell (e.g. each weekday-hour of a heat map) its weekly samples over the same
    weeks. A dip that recurs every week is part of its own same-hour baseline, so only this comparison
    shows it ("Tuesdays 15-17 are lower than the rest of your week").
    """
    pooled = [pool(weeks) for weeks in cells]
    everything = pool(pooled)
    return judge([(cell, everything - cell) for cell in pooled], alpha=alpha, level=level,
                 dispersion=dispersion(cells), min_n=min_n)


def most_different(results: Sequence[IndexResult]) -> int | None:
    """Position of the member to name as "differs most from usual": the smallest q-value among those
    judged lower or higher; None when none is (then no hour is singled out)."""
    flagged = [(r.q, i) for i, r in enumerate(results) if r.verdict in (LOWER, HIGHER) and r.q is not None]
    return min(flagged)[1] if flagged else None


__all__ = ["BASELINE_WEEKS", "DEFAULT_ALPHA", "baseline_days", "p_value", "difference_interval", "dispersion",
           "benjamini_hochberg", "judge", "against_baseline", "compare",
           "against_rest", "most_different"]
