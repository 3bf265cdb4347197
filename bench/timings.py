"""Timing samples for the benchmarks: taking them, their percentiles and summaries, and the latency table.

Shared by the scripts in bench/ (not a benchmark itself). bench/ is not a package: a script run as
``python bench/x.py`` has this folder as ``sys.path[0]`` when it starts, so it imports
``from timings import ...`` before it changes ``sys.path``.

Units are whatever the samples are in (the scripts use milliseconds or seconds); ``time_ms`` gives
milliseconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0..100) of ``values``, linear between the two nearest ranks.

    ``p`` 50 is the median, 100 the maximum; ``nan`` when there are no values.
    """
    ordered = sorted(values)
    if not ordered:
        return math.nan
    at = p / 100 * (len(ordered) - 1)
    below = math.floor(at)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (at - below)


@dataclass(frozen=True)
class Summary:
    """What the benchmarks print of a sample: count, p50, p95, p99, max and mean (in the sample's unit)."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float


def summarize(values: Iterable[float]) -> Summary:
    """The ``Summary`` of ``values``; every figure ``nan`` (and ``n`` 0) when there are none."""
    values = list(values)
    if not values:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    return Summary(len(values), percentile(values, 50), percentile(values, 95), percentile(values, 99),
                   max(values), math.fsum(values) / len(values))


def time_ms(fn: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds each of ``runs`` calls of ``fn()`` took, one after the other (``time.perf_counter_ns``)."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def latency_table(timings: dict[str, list[float]], width: int) -> dict[str, Summary]:
    """Print p50 / p99 / max / mean (ms) per contender of ``timings`` (in its order), names ``width`` wide.

    Returns each contender's ``Summary``, for the ratios the script prints after the table.
    """
    print(f"{'':{width}} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'mean ms':>9}")
    stats = {}
    for name, values in timings.items():
        s = stats[name] = summarize(values)
        print(f"{name:{width}} {s.p50:9.3f} {s.p99:9.3f} {s.max:9.3f} {s.mean:9.3f}")
    return stats
