"""Today's store cards: when and why, as a page model. Pure: figures and verdicts in (read and judged by
``server.results`` / ``server.results.usual``), what a card shows out. Tested without a server.

A card holds the day so far with its interval and its verdict against a usual same weekday up to the
same hour; the hour-by-hour strip of the day's open hours, each hour judged against the same hour of the
usual days (the day's hours one family, Benjamini-Hochberg); the day's top reasons; and the hour that
differs most from its usual (``hymy.stats_compare.most_different``), with the reasons given in it. A
store closed today says so and when it opens next, instead of an empty figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from hymy.figures import Figure, empty
from hymy.stats import IndexResult
from hymy.stats_compare import most_different

from .views import StoreRef

#: Most reasons a card lists for the day and for its stand-out hour.
TOP_REASONS = 3


@dataclass(frozen=True, slots=True)
class HourCell:
    """One hour of the strip: local ``hour`` (0-23), its figure and its verdict against its usual."""

    hour: int
    fig: Figure
    result: IndexResult

    @property
    def span(self) -> str:
        """``15–16``: the hour as people name it."""
        return f"{self.hour:02d}–{(self.hour + 1) % 24:02d}"


@dataclass(frozen=True, slots=True)
class TodayCard:
    """One store's Today. ``today``: the day's figure so far; ``result``: its verdict against a usual
    same weekday up to ``until`` (the local hour now); ``closed``: closed all day (and nothing counted),
    ``opens``: when it opens next, as shown ("ma 8.00"), when closed or not yet open."""

    store: StoreRef
    day: date
    today: Figure
    result: IndexResult
    until: int
    weekday_name: str
    hours: tuple[HourCell, ...] = ()
    reasons: tuple[tuple[str, int], ...] = ()
    standout: HourCell | None = None
    standout_reasons: tuple[tuple[str, int], ...] = ()
    closed: bool = False
    opens: str | None = None
    opens_today: bool = False

    @property
    def version(self) -> str:
        """Changes whenever anything on the card changes (the live script replaces only changed cards)."""
        t = self.today
        return f"{self.day}|{self.until}|{t.counts}|{t.filtered}|{self.reasons}|{self.closed}"


def _named(counts: Sequence, names: Mapping[str, str], limit: int = TOP_REASONS) -> tuple[tuple[str, int], ...]:
    """The first ``limit`` of ``counts`` (``server.results.Count``: ``.value``, ``.n``) by their names."""
    return tuple((names.get(c.value, c.value), c.n) for c in counts[:limit])


def _summed(by_hour: Mapping[int, Sequence]) -> list[tuple[str, int]]:
    total: dict[str, int] = {}
    for counts in by_hour.values():
        for c in counts:
            total[c.value] = total.get(c.value, 0) + c.n
    return sorted(total.items(), key=lambda x: (-x[1], x[0]))


def today_card(store: StoreRef, day: date, until: int, today: Figure, result: IndexResult, weekday_name: str, *,
               hours: Mapping[int, Figure] | None = None, verdicts: Mapping[int, IndexResult] | None = None,
               reasons: Mapping[int, Sequence] | None = None, names: Mapping[str, str] | None = None,
               opens: str | None = None) -> TodayCard:
    """The card of ``store`` on its local date ``day`` at local hour ``until``.

    ``hours``: the day's figures per local hour; ``verdicts``: the verdict of each hour the strip shows
    (``views.day_hours``), in order (None for a table row); ``reasons``: the day's reason choices per local
    hour (``server.results.followups_by_hour``), ``names`` their texts; ``opens``: when the store opens
    next, as shown.
    """
    opening = store.open_hours(day)
    closed = opening == [] and not today.n
    not_yet = bool(opening) and until < opening[0] and not today.n
    hours = hours or {}
    cells = () if closed else tuple(HourCell(h, hours.get(h) or empty(store.scale), r)
                                    for h, r in (verdicts or {}).items())
    pick = most_different([c.result for c in cells])
    standout = None if pick is None else cells[pick]
    names = names or {}
    standout_reasons = _named((reasons or {}).get(standout.hour, []), names) if standout else ()
    day_reasons = tuple((names.get(v, v), n) for v, n in _summed(reasons or {})[:TOP_REASONS])
    return TodayCard(store, day, today, result, until, weekday_name, hours=cells,
                     reasons=day_reasons, standout=standout,
                     standout_reasons=standout_reasons, closed=closed,
                     opens=opens if closed or not_yet else None, opens_today=not_yet)


__all__ = ["TOP_REASONS", "HourCell", "TodayCard", "today_card"]
