"""Simulation tests of hymy.stats / hymy.stats_compare: coverage of the interval, false alarms of the
comparisons on stores where nothing changed, and that a real weekly dip is found.

Everything is seeded, so the figures are the same on every run. Run this file as a script
(``python -m tests.hymy.test_stats_properties``) to print the figures quoted in docs/statistics.md.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hymy.score import face_weights
from hymy.stats import LOWER, Sample, pool, sample, sample_interval
from hymy.stats_compare import against_baseline, against_rest

# ----------------------------------------------------------------------------- distributions

#: True distributions per scale (most negative face first): balanced, mostly happy, mostly unhappy.
#: The mostly happy ones are HappyOrNot's published examples (index 78 on 4 faces, 81 on 5).
TRUTHS = {
    3: {"balanced": (1 / 3, 1 / 3, 1 / 3), "mostly happy": (0.05, 0.15, 0.80), "mostly unhappy": (0.70, 0.20, 0.10)},
    4: {"balanced": (0.25,) * 4, "mostly happy": tuple(c / 219 for c in (17, 16, 60, 126)),
        "mostly unhappy": (0.50, 0.30, 0.10, 0.10)},
    5: {"balanced": (0.2,) * 5, "mostly happy": tuple(c / 92 for c in (4, 2, 12, 23, 51)),
        "mostly unhappy": (0.45, 0.25, 0.15, 0.10, 0.05)},
}
CASES = [(scale, name) for scale in TRUTHS for name in TRUTHS[scale]]


def true_index(probs: tuple[float, ...]) -> float:
    return sum(p * w for p, w in zip(probs, face_weights(len(probs)), strict=True))


def draw_counts(rng: random.Random, probs: tuple[float, ...], n: int) -> list[int]:
    """One multinomial sample of ``n`` presses."""
    cum = [sum(probs[: i + 1]) for i in range(len(probs))]
    draws = rng.choices(range(len(probs)), cum_weights=cum, k=n)
    return [draws.count(face) for face in range(len(probs))]


def compositions(n: int, k: int) -> Iterator[tuple[int, ...]]:
    """Every way to spread ``n`` presses over ``k`` faces."""
    if k == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in compositions(n - first, k - 1):
            yield (first, *rest)


def exact_coverage(scale: int, probs: tuple[float, ...], n: int) -> float:
    """Probability that the 95 % interval holds the true index, summed over every possible sample."""
    truth = true_index(probs)
    logs = [math.log(p) for p in probs]
    covered = 0.0
    for counts in compositions(n, scale):
        low, high = sample_interval(sample(counts, scale))
        if low <= truth <= high:
            log_pmf = math.lgamma(n + 1) + sum(c * lp - math.lgamma(c + 1) for c, lp in zip(counts, logs, strict=True))
            covered += math.exp(log_pmf)
    return covered


# ----------------------------------------------------------------------------- interval coverage


@pytest.mark.parametrize("scale,name", CASES)
def test_interval_covers_true_index_93_to_97_percent_of_2000_simulated_samples(scale, name):
    probs = TRUTHS[scale][name]
    truth = true_index(probs)
    rng = random.Random(f"coverage-{scale}-{name}")
    for n in (30, 100, 500):
        hits = 0
        for _ in range(2000):
            low, high = sample_interval(sample(draw_counts(rng, probs, n), scale))
            hits += low <= truth <= high
        assert 0.93 <= hits / 2000 <= 0.97, f"{scale} faces, {name}, N = {n}: coverage {hits / 2000:.3f}"


@pytest.mark.parametrize("scale,name", CASES)
def test_interval_stays_honest_for_small_n_counting_every_possible_sample(scale, name):
    # Exact, not simulated: at N = 5..20 the coverage may be a little above 95 % (discreteness: the few
    # possible samples cannot hit 95 % exactly) but never below 93 %.
    for n in (5, 8, 10, 12, 15, 20):
        coverage = exact_coverage(scale, TRUTHS[scale][name], n)
        assert 0.93 <= coverage <= 0.98, f"{scale} faces, {name}, N = {n}: coverage {coverage:.3f}"


# ----------------------------------------------------------------------------- simulated stores

OPEN = range(9, 21)  # 09-21, twelve open hours every day
#: Mean presses per open hour on a weekday: quiet mornings, a lunch bump, a busy late afternoon (0-40).
VOLUME = dict(zip(OPEN, (6, 10, 16, 26, 24, 20, 30, 34, 36, 30, 18, 8), strict=True))
DAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 1.1, 1.0, 0.5)  # Monday .. Sunday
#: The store's usual mood by hour, in index points from its mean (a stable weekly pattern).
HOUR_MOOD = dict(zip(OPEN, (3, 3, 0, -4, -4, 0, 0, 0, -3, -3, 0, 2), strict=True))
BASE = TRUTHS[4]["mostly happy"]  # index 78
WORSE, BEST = (0.4, 0.3, 0.2, 0.1), (0.0, 0.0, 0.0, 1.0)
#: Dirichlet concentration of an hour's week-to-week wobble: about 4.4 index points standard deviation,
#: beyond what the presses explain (staff, weather, queues). Without the dispersion correction about 6 %
#: of steady hours would be called lower.
WOBBLE = 50.0
TUESDAY, DIP_HOURS = 1, (15, 16)


def shifted(probs: tuple[float, ...], points: float) -> tuple[float, ...]:
    """``probs`` mixed towards an unhappier (or happier) mood so the index moves by ``points``."""
    if points == 0:
        return probs
    toward = WORSE if points < 0 else BEST
    share = points / (true_index(toward) - true_index(probs))
    return tuple((1 - share) * p + share * t for p, t in zip(probs, toward, strict=True))


def poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


@dataclass
class Store:
    """``weeks[w][weekday][hour]``: the presses of one simulated store, as :class:`Sample` per hour."""

    weeks: list[list[dict[int, Sample]]]

    def day(self, week: int, weekday: int) -> Sample:
        return pool(self.weeks[week][weekday].values())

    def hours(self, week: int, weekday: int) -> list[Sample]:
        return [self.weeks[week][weekday][h] for h in OPEN]


def simulate(seed: str, weeks: int = 12, hour_pattern: bool = True, dip: float = 0.0,
             dip_from: int = 0) -> Store:
    """A store with stable moods (plus the weekly wobble); ``dip`` points off Tuesdays 15-17 from week ``dip_from``."""
    rng = random.Random(seed)
    history = []
    for week in range(weeks):
        days = []
        for weekday in range(7):
            cells = {}
            for hour in OPEN:
                points = HOUR_MOOD[hour] if hour_pattern else 0
                if dip and weekday == TUESDAY and hour in DIP_HOURS and week >= dip_from:
                    points -= dip
                mean = shifted(BASE, points)
                gammas = [rng.gammavariate(WOBBLE * p, 1.0) if p > 0 else 0.0 for p in mean]
                probs = tuple(g / sum(gammas) for g in gammas)
                n = poisson(rng, VOLUME[hour] * DAY_FACTOR[weekday])
                cells[hour] = sample(draw_counts(rng, probs, n), 4)
            days.append(cells)
        history.append(days)
    return Store(history)


@dataclass
class Flags:
    """How many family members were judged, and how many were called lower (after BH, and by raw p)."""

    judged: int = 0
    lower: int = 0
    raw_lower: int = 0

    def add(self, results) -> None:
        for r in results:
            if r.p is None:
                continue
            self.judged += 1
            self.lower += r.verdict == LOWER
            self.raw_lower += r.p < 0.05 and r.index < r.baseline_index

    @property
    def share(self) -> float:
        return self.lower / self.judged

    @property
    def raw_share(self) -> float:
        return self.raw_lower / self.judged


@functools.cache
def steady(i: int) -> tuple[Flags, Flags, Flags]:
    """:func:`recent_against_baseline` of the ``i``-th steady store (hour pattern, wobble, no dip)."""
    return recent_against_baseline(simulate(f"steady-{i}"))


def recent_against_baseline(store: Store) -> tuple[Flags, Flags, Flags]:
    """The last 4 weeks judged as a manager sees them: each day against its 8 earlier weekdays (family:
    the 28 days), each open hour against the same hour of those days (family: the day's hours), and the
    heat map of the 4 weeks against the 8 weeks before (family: the 84 weekday-hours)."""
    days, hours, heat = Flags(), Flags(), Flags()
    recent = range(len(store.weeks) - 4, len(store.weeks))
    days.add(against_baseline(
        [store.day(w, d) for w in recent for d in range(7)],
        [[store.day(w - k, d) for k in range(1, 9)] for w in recent for d in range(7)]))
    for w in recent:
        for d in range(7):
            hours.add(day_hours(store, w, d))
    heat.add(heat_map(store))
    return days, hours, heat


def day_hours(store: Store, week: int, weekday: int) -> list:
    """One day's open hours, each against the same hour of the 8 weeks before (family: the day's hours)."""
    return against_baseline(store.hours(week, weekday),
                            [[store.weeks[week - k][weekday][h] for k in range(1, 9)] for h in OPEN])


def heat_map(store: Store) -> list:
    """The heat map of the last 4 weeks, each weekday-hour against the same hour of the 8 weeks before."""
    recent = range(len(store.weeks) - 4, len(store.weeks))
    before = range(recent[0] - 8, recent[0])
    return against_baseline(
        [pool(store.weeks[w][d][h] for w in recent) for d in range(7) for h in OPEN],
        [[store.weeks[w][d][h] for w in before] for d in range(7) for h in OPEN])


def pattern(store: Store, weeks: int = 8) -> list:
    """The heat map of the last ``weeks`` weeks, each weekday-hour against the rest of the week."""
    last = range(len(store.weeks) - weeks, len(store.weeks))
    return against_rest([[store.weeks[w][d][h] for w in last] for d in range(7) for h in OPEN])


def cell(weekday: int, hour: int) -> int:
    """Position of a weekday-hour in the heat-map families above."""
    return weekday * len(OPEN) + OPEN.index(hour)


def add_all(flag_sets) -> tuple[Flags, ...]:
    """Sum the per-store :class:`Flags` of each family kind."""
    totals = tuple(Flags() for _ in flag_sets[0])
    for flags in flag_sets:
        for total, f in zip(totals, flags, strict=True):
            total.judged += f.judged
            total.lower += f.lower
            total.raw_lower += f.raw_lower
    return totals


def test_stores_without_a_real_change_have_under_5_percent_of_days_hours_and_cells_called_lower():
    days, hours, heat = add_all([steady(i) for i in range(20)])
    assert days.judged == 20 * 28 and hours.judged > 3000 and heat.judged > 1500  # a real test, not an empty one
    for kind, flags in (("days", days), ("hours", hours), ("heat-map cells", heat)):
        assert flags.share < 0.05, f"{kind}: {flags.lower} of {flags.judged} called lower than usual"
        # the p-values themselves are honest, before any multiple-comparison adjustment
        assert flags.raw_share < 0.05, f"{kind}: {flags.raw_lower} of {flags.judged} with p < 0.05 and lower"


def test_a_steady_store_s_heat_map_rarely_shows_any_cell_lower_at_all():
    # Benjamini-Hochberg over the 84 cells: when nothing changed, it keeps the chance of even one false
    # "lower" on the whole map near 5 %, where 84 separate tests would flag about two cells per map.
    maps_with_a_false_alarm = 0
    for i in range(20):
        *_, heat = steady(i)
        maps_with_a_false_alarm += heat.lower > 0
    assert maps_with_a_false_alarm <= 2


def test_a_flat_store_has_under_5_percent_of_heat_map_cells_lower_than_the_rest_of_its_week():
    flags = Flags()
    for i in range(20):
        flags.add(pattern(simulate(f"flat-{i}", hour_pattern=False)))
    assert flags.judged > 1500
    assert flags.share < 0.05 and flags.raw_share < 0.05


def test_a_dip_every_tuesday_15_17_is_flagged_on_the_heat_map_of_every_store():
    dip_cells = [cell(TUESDAY, h) for h in DIP_HOURS]
    others = Flags()
    for i in range(10):
        results = pattern(simulate(f"weekly-dip-{i}", hour_pattern=False, dip=15))
        for c in dip_cells:
            assert results[c].verdict == LOWER, f"store {i}: Tuesday {OPEN[c % len(OPEN)]}-: {results[c]}"
            assert results[c].high < results[c].baseline_index  # the whole interval sits below the rest
        others.add(r for j, r in enumerate(results) if j not in dip_cells)
    assert others.share < 0.05


def test_a_dip_that_began_four_weeks_ago_is_flagged_against_the_eight_weeks_before():
    # Tuesdays 15-17 lose 15 points from week 8 on; the heat map of weeks 8-11 against weeks 0-7.
    # With 30-36 presses in those hours a week, each dip hour is found in about 60 % of stores
    # (docs/statistics.md); a steady hour almost never.
    found = 0
    others = Flags()
    for i in range(20):
        results = heat_map(simulate(f"new-dip-{i}", dip=15, dip_from=8))
        found += any(results[cell(TUESDAY, h)].verdict == LOWER for h in DIP_HOURS)
        others.add(r for j, r in enumerate(results) if j not in [cell(TUESDAY, h) for h in DIP_HOURS])
    assert found >= 14, f"the new dip was flagged in only {found} of 20 stores"
    assert others.share < 0.05


# ----------------------------------------------------------------------------- figures for the docs


def figures() -> None:  # pragma: no cover - run by hand, prints the tables of docs/statistics.md
    """Print coverage, false-alarm and power figures (deterministic, a few minutes)."""
    import hymy.stats_compare as compare

    print("Coverage of the 95 % interval (N <= 20 exact, larger N 20,000 simulated samples)")
    truths = {**{(s, n): p for s in TRUTHS for n, p in TRUTHS[s].items()},
              (4, "nearly all happy"): (0.01, 0.01, 0.08, 0.90)}
    sizes = (5, 10, 20, 30, 100, 500, 1000)
    print("| faces | true distribution | index | " + " | ".join(f"N = {n}" for n in sizes) + " |")
    for (scale, name), probs in truths.items():
        row = []
        for n in sizes:
            if n <= 20:
                row.append(exact_coverage(scale, probs, n))
                continue
            rng, truth = random.Random(f"figures-{scale}-{name}-{n}"), true_index(probs)
            hits = 0
            for _ in range(20_000):
                low, high = sample_interval(sample(draw_counts(rng, probs, n), scale))
                hits += low <= truth <= high
            row.append(hits / 20_000)
        print(f"| {scale} | {name} | {true_index(probs):.0f} | " + " | ".join(f"{100 * c:.1f} %" for c in row) + " |")

    print("\nSteady stores (60 each): share called lower, after BH (and with raw p < 0.05)")
    global WOBBLE
    for wobble in (1e12, 50.0):
        WOBBLE = wobble
        days, hours, heat = add_all([recent_against_baseline(simulate(f"figures-steady-{i}")) for i in range(60)])
        for kind, f in (("days", days), ("hours", hours), ("heat-map cells", heat)):
            print(f"  wobble {'none' if wobble > 1e9 else '4.4 points'}: {kind}: {f.judged} judged, "
                  f"{100 * f.share:.2f} % lower after BH, {100 * f.raw_share:.2f} % with raw p < 0.05")
        if wobble == 50.0:
            saved = compare.dispersion
            compare.dispersion = lambda series: 1.0
            days, hours, heat = add_all([recent_against_baseline(simulate(f"figures-steady-{i}")) for i in range(60)])
            compare.dispersion = saved
            print(f"  ... the same without the dispersion: raw p < 0.05 and lower: days {100 * days.raw_share:.2f} %, "
                  f"hours {100 * hours.raw_share:.2f} %, cells {100 * heat.raw_share:.2f} %")

    print("\nDips of 15 points on Tuesdays 15-17 (60 stores each)")
    both = 0
    for i in range(60):
        results = pattern(simulate(f"figures-weekly-{i}", hour_pattern=False, dip=15))
        both += all(results[cell(TUESDAY, h)].verdict == LOWER for h in DIP_HOURS)
    print(f"  recurring for 8 weeks, heat map against the rest of the week: both hours flagged in {both} of 60")
    cells = hours_found = hours_tried = days_found = 0
    for i in range(60):
        store = simulate(f"figures-new-{i}", dip=15, dip_from=8)
        results = heat_map(store)
        cells += sum(results[cell(TUESDAY, h)].verdict == LOWER for h in DIP_HOURS)
        for w in range(8, 12):
            day = day_hours(store, w, TUESDAY)
            hours_tried += len(DIP_HOURS)
            hours_found += sum(day[OPEN.index(h)].verdict == LOWER for h in DIP_HOURS)
        [day] = against_baseline([store.day(11, TUESDAY)], [[store.day(11 - k, TUESDAY) for k in range(1, 9)]])
        days_found += day.verdict == LOWER
    print(f"  new for 4 weeks, heat map of the 4 weeks against the 8 before: {100 * cells / 120:.0f} % of dip hours")
    print(f"  new, one Tuesday's hours against their usual (family: the day's hours): {100 * hours_found / hours_tried:.0f} %")
    print(f"  new, the whole Tuesday against the usual Tuesday: {100 * days_found / 60:.0f} %")

    print("\nSmallest drop found 80 % of the time, one period against 8 weeks of the same volume (index 78, 4 faces)")
    spread = sample([17, 16, 60, 126]).variance
    for n in (20, 40, 100, 250, 1000):
        points = 100 * (1.959964 + 0.841621) * math.sqrt(spread * (1 / n + 1 / (8 * n)))
        print(f"  N = {n}: about {points:.0f} points")


if __name__ == "__main__":  # pragma: no cover
    figures()
