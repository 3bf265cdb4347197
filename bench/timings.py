"""Timing samples for the benchmarks: taking them, their percentiles and summaries, and the latency table.

Shared by the scripts in bench/ (not a benchmark itself). bench/ is not a package: a script run as
``python bench/x.py`` has this folder as ``sys.path[0]`` when it starts, so it imports
``from timings import ...`` before it changes ``sys.path``.

Units are whatever the samples are in (the scripts use milliseconds or seconds); ``time_ms`` gives
milliseconds. ``cpu_s`` and ``tree_cpu_s`` read another process's CPU seconds from Linux's /proc.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

#: Clock ticks per second of /proc/<pid>/stat's CPU times (100 on Linux: a resolution of 10 ms).
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds) of ``pid`` from /proc/<pid>/stat: user + system time of all its threads,
    plus that of its children it has waited for (so a worker that exits inside a window still counts).
    Raises OSError when the process is gone."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) ": the comm may hold spaces
    # fields[1] is ppid; utime, stime, cutime, cstime are stat's fields 14-17, here 11-14
    return int(fields[1]), sum(int(x) for x in fields[11:15]) / CLOCK_TICKS


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads, waited-for children) ``pid`` has used; OSError if gone."""
    return _stat(pid)[1]


def tree_cpu_s(root: int) -> float:
    """CPU seconds of process ``root`` and every process below it (children, their children...), from /proc.

    The difference of two readings is what the tree used between them, whatever ran where: threads are
    in their process's figure, and a child that exits meanwhile moves its time into its parent's (once
    the parent waited for it). Raises OSError when ``root`` itself is gone.
    """
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parents[int(entry.name)], cpu[int(entry.name)] = _stat(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue  # a process that ended meanwhile
    if root not in cpu:
        raise OSError(f"no process {root}")
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu[pid]
        todo.extend(children.get(pid, ()))
    return total
