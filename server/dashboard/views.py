"""Page models: query results (Figures keyed by day, hour or weekday) in, what a template shows out.

Pure functions, no I/O: the routes fetch, these shape. Tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from hymy.figures import Figure, empty, merge
from hymy.hours import open_hours
from hymy.stats import IndexResult

from ..i18n import format_day
from .charts import Bar, Cell, Point


@dataclass(frozen=True, slots=True)
class StoreRef:
    """What pages need of a store."""

    id: str
    name: str
    region: str | None = None
    region_id: str | None = None
    timezone: str = "Europe/Helsinki"
    scale: int = 4
    languages: tuple[str, ...] = ("fi", "sv", "en")
    #: Opening hours as ``((weekday, (interval, ...)), ...)`` (``hymy.hours``); empty: always open.
    opening_hours: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def hours(self) -> dict[str, list[str]] | None:
        """The opening hours as ``hymy.hours`` takes them; None when the store has none (always open)."""
        return {day: list(iv) for day, iv in self.opening_hours} or None

    def open_hours(self, day: date) -> list[int] | None:
        """Local hours of ``day`` the store is open in (``hymy.hours.open_hours``); None: always open."""
        return open_hours(self.hours, day)


def date_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _index_n(f: Figure | None) -> tuple[float | None, int]:
    """A chart mark's (value, n): the Happy Index (None without counted presses) and the counted presses
    of ``f`` (None: no figure, as a day or hour without any)."""
    return (None if f is None or f.n == 0 else f.score.happy_index), (0 if f is None else f.n)


def trend_points(days: Sequence[date], figs: Mapping[date, Figure], lang: str, with_year: bool = False) -> list[Point]:
    """One point per day (None where the day had no counted presses), labelled "23.11." (with the year,
    "23.11.2026", when ``with_year``: a range across years)."""
    pattern = "d.M.yyyy" if with_year else "d.M."
    return [Point(format_day(d, lang, pattern), *_index_n(figs.get(d))) for d in days]


def weeks(days: Sequence[date], figs: Mapping[date, Figure], lang: str, week_label: str) -> list[tuple[str, Figure]]:
    """ISO weeks, newest first: (label "vk 47 · 16.11.", merged Figure)."""
    buckets: dict[tuple[int, int], list[Figure]] = {}
    starts: dict[tuple[int, int], date] = {}
    for d in days:
        key = tuple(d.isocalendar()[:2])
        buckets.setdefault(key, [])
        starts.setdefault(key, d)
        if d in figs:
            buckets[key].append(figs[d])
    out = []
    for key in sorted(buckets, reverse=True):
        label = f"{week_label} {key[1]} · {format_day(starts[key], lang, 'd.M.')}"
        out.append((label, merge(buckets[key]) if buckets[key] else empty()))
    return out


def day_hours(hours: Mapping[int, Figure], opening: Iterable[int] | None) -> list[int]:
    """The local hours a day is drawn with: its open hours (``opening``; None when the store has no
    opening hours) and every hour that had presses, in order. Closed hours without presses are left
    out (a 10-18 Sunday shows 10-18, not the week's 08-20); without opening hours, the hours from the
    first press to the last, no gaps."""
    pressed = {h for h, f in hours.items() if f.n or f.filtered}
    if opening is None:
        return list(range(min(pressed), max(pressed) + 1)) if pressed else []
    return sorted(pressed | set(opening))


def hour_bars(hours: Mapping[int, Figure], shown: Iterable[int],
              verdicts: Mapping[int, IndexResult] | None = None) -> list[Bar]:
    """A bar per hour of ``shown`` (:func:`day_hours`) with its verdict against the usual (when given)."""
    verdicts = verdicts or {}
    return [Bar(f"{h:02d}", *_index_n(hours.get(h)), verdict=getattr(verdicts.get(h), "verdict", None))
            for h in shown]


def opening_hour_range(opening_hours: Mapping[str, Sequence[str]] | None) -> list[int]:
    """Every local hour any day's opening hours touch (for the hour axis)."""
    from hymy.hours import parse_interval

    hours: set[int] = set()
    for intervals in (opening_hours or {}).values():
        for text in ([intervals] if isinstance(intervals, str) else intervals):
            try:
                start, end = parse_interval(text)
            except ValueError:
                continue
            if end <= start:
                end += 24 * 60
            hours.update(h % 24 for h in range(start // 60, (end + 59) // 60))
    return sorted(hours)


def heat_rows(cells: Mapping[tuple[int, int], Figure], hours: Sequence[int],
              verdicts: Mapping[tuple[int, int], IndexResult] | None = None) -> list[list[Cell]]:
    """7 rows (Monday first) x ``hours`` columns of Cells from figures keyed (weekday 0-6, hour), each with
    its verdict (when given)."""
    verdicts = verdicts or {}
    return [[Cell(*_index_n(cells.get((wd, h))), verdict=getattr(verdicts.get((wd, h)), "verdict", None))
             for h in hours] for wd in range(7)]


@dataclass(frozen=True, slots=True)
class RankRow:
    rank: int | None
    store: StoreRef
    fig: Figure


def ranking(rows: Iterable[tuple[StoreRef, Figure]]) -> list[RankRow]:
    """Stores with enough presses ranked by Happy Index (ties share a rank), then the others unranked."""
    rows = list(rows)
    sure = sorted((r for r in rows if not r[1].low_confidence), key=lambda r: (-(r[1].score.happy_index or 0), r[0].name))
    unsure = sorted((r for r in rows if r[1].low_confidence), key=lambda r: (-r[1].n, r[0].name))
    out: list[RankRow] = []
    prev = None
    rank = 0
    for i, (s, f) in enumerate(sure, start=1):
        if f.index != prev:
            rank = i
            prev = f.index
        out.append(RankRow(rank, s, f))
    out.extend(RankRow(None, s, f) for s, f in unsure)
    return out


def months(days: Sequence[date], figs: Mapping[date, Figure], lang: str) -> list[tuple[str, Figure]]:
    """Calendar months, newest first: (label "marraskuu 2026", merged Figure)."""
    from babel.dates import format_date

    buckets: dict[tuple[int, int], list[Figure]] = {}
    for d in days:
        buckets.setdefault((d.year, d.month), [])
        if d in figs:
            buckets[(d.year, d.month)].append(figs[d])
    return [(format_date(date(y, m, 1), "LLLL yyyy", locale=lang), merge(fs) if fs else empty())
            for (y, m), fs in sorted(buckets.items(), reverse=True)]
