"""What a manager would find in the demo's data, computed the way the pages are to compute it (the
statistics core ``hymy.stats_compare``, docs/statistics.md): shared by the story's pure test
(tests/hymy/test_demostory.py, on planned presses) and the end-to-end one (tests/e2e/test_demo_story.py,
on the manager's CSV export of a running demo)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from hymy.stats import IndexResult, Sample, sample
from hymy.stats_compare import against_baseline, against_rest, baseline_days, most_different


@dataclass(frozen=True)
class Counted:
    """One counted press (no flag) as the store sees it: local time, face, scale, the reasons given."""

    local: datetime
    mood: int
    scale: int = 4
    reasons: tuple[str, ...] = field(default=())


def _sample(presses: Iterable[Counted]) -> Sample:
    counts: Counter[tuple[int, int]] = Counter((p.scale, p.mood) for p in presses)
    return Sample.from_tally((scale, mood, n) for (scale, mood), n in counts.items())


def heat_map(presses: list[Counted]) -> dict[tuple[int, int], IndexResult]:
    """Each weekday-hour cell (0 = Monday, local hour) against the rest of the week over the same weeks
    (``against_rest``, Benjamini-Hochberg over the cells): what the heat map flags."""
    def week(p: Counted) -> int:  # Monday to Sunday
        return (p.local.toordinal() - 1) // 7

    first = min(week(p) for p in presses)
    weeks = max(week(p) for p in presses) - first + 1
    cells: dict[tuple[int, int], list[list[Counted]]] = defaultdict(lambda: [[] for _ in range(weeks)])
    for p in presses:
        cells[(p.local.weekday(), p.local.hour)][week(p) - first].append(p)
    keys = sorted(cells)
    results = against_rest([[_sample(week) for week in cells[k]] for k in keys])
    return dict(zip(keys, results, strict=True))


def day_hours(presses: list[Counted], day: date, hours: Iterable[int]) -> dict[int, IndexResult]:
    """Each open hour of ``day`` against the same hour of the same weekday over the 8 weeks before it
    (``against_baseline``, Benjamini-Hochberg over the day's hours): what Today shows on that day."""
    hours = list(hours)
    by: dict[tuple[date, int], list[Counted]] = defaultdict(list)
    for p in presses:
        by[(p.local.date(), p.local.hour)].append(p)
    periods = [_sample(by[(day, h)]) for h in hours]
    baselines = [[_sample(by[(d, h)]) for d in baseline_days(day)] for h in hours]
    return dict(zip(hours, against_baseline(periods, baselines), strict=True))


def the_one(results: dict) -> object | None:
    """The key of the member to name as "differs most from usual" (``most_different``), or None."""
    keys = list(results)
    i = most_different(list(results.values()))
    return None if i is None else keys[i]


def reasons(presses: Iterable[Counted]) -> Counter[str]:
    return Counter(r for p in presses for r in p.reasons)


def index_of(presses: Iterable[Counted]) -> float:
    return sample(Counter(p.mood for p in presses), 4).index
