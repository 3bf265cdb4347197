"""The team screen's page model: query results in, what the staff-room screen shows out.

Pure functions (no I/O): tested without a server or a database. Only good news is shaped here: today's
smiles (positive presses) and their share, the day's praise messages, and the week's best moments (the
hours with most smiles, the praise options chosen). Nothing negative, no Happy Index, no manager data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from hymy.figures import Figure, empty, merge
from hymy.hours import zone

from ..results import Count, PraiseMessage
from .views import StoreRef

#: The days "this week" covers: today and the 6 before it.
WEEK_DAYS = 7
#: How many praise messages the screen shows (newest first) and how many best hours.
MESSAGES = 8
BEST_HOURS = 3


@dataclass(frozen=True, slots=True)
class Message:
    """One praise message as shown: local ``when`` ("14:32", or a date and time), the praise options' names,
    the comment (None without one) and its follow-up id."""

    when: str
    praise: tuple[str, ...]
    comment: str | None
    store: str = ""
    comment_id: str | None = None


@dataclass(frozen=True, slots=True)
class BestHour:
    """One of the week's best hours: its local date, hour (0-23), smiles and their share (whole %)."""

    day: date
    hour: int
    smiles: int
    share: int | None


@dataclass(frozen=True, slots=True)
class TeamBoard:
    store: StoreRef
    today: date
    smiles: int  #: counted presses on a positive face today
    n: int  #: counted presses today
    share: int | None  #: smiles as a whole % of ``n`` (None without presses)
    messages: list[Message]
    praise_today: list[tuple[str, int]]  #: (praise option's name, times chosen today), most first
    week_smiles: int
    best_hours: list[BestHour]
    praise_week: list[tuple[str, int]]


def week_of(today: date) -> tuple[date, date]:
    """The local dates "this week" covers, ``(first, last)``: the last ``WEEK_DAYS`` days up to ``today``."""
    return today - timedelta(days=WEEK_DAYS - 1), today


def messages(found: Iterable[PraiseMessage], names: Mapping[str, str], stores: Mapping[str, StoreRef],
             when=None) -> list[Message]:
    """Praise messages with the options' names (``names``: id -> name; an unknown id shows as itself) and
    the local time of each press in its store's zone; ``when(local_datetime) -> str`` formats it ("%H:%M")."""
    out = []
    for m in found:
        s = stores.get(m.store_id)
        local = m.at.astimezone(zone(s.timezone if s else "UTC"))
        out.append(Message(when(local) if when else local.strftime("%H:%M"),
                           tuple(names.get(p, p) for p in m.praise), m.comment, s.name if s else "", m.comment_id))
    return out


def pick(newest: Sequence[PraiseMessage], with_comment: Sequence[PraiseMessage],
         limit: int = MESSAGES) -> list[PraiseMessage]:
    """The ``limit`` messages a screen shows, newest first: those with a comment before any other (what a
    customer wrote is the praise most worth reading, and an hour of praise buttons must not push it off
    the screen), the rest filled with the newest others."""
    chosen = {m.response_id: m for m in with_comment[:limit]}
    for m in newest:
        if len(chosen) >= limit:
            break
        chosen.setdefault(m.response_id, m)
    return sorted(chosen.values(), key=lambda m: (m.at, m.response_id), reverse=True)


def best_hours(cells: Mapping[tuple[int, int], Figure], today: date, limit: int = BEST_HOURS) -> list[BestHour]:
    """The ``limit`` hours of the week with most smiles (ties: the higher share, then the more recent), from
    figures per (weekday 0=Monday, local hour) over the week up to ``today``: in a 7-day week each weekday
    is one date. Hours without a smile are never listed; nothing about the other hours is."""
    first, _ = week_of(today)
    day_of = {(first + timedelta(days=i)).weekday(): first + timedelta(days=i) for i in range(WEEK_DAYS)}
    ranked = sorted(((day_of[wd], hour, f) for (wd, hour), f in cells.items() if f.positive and wd in day_of),
                    key=lambda x: (-x[2].positive, -(x[2].score.positive_pct or 0), -x[0].toordinal(), -x[1]))
    return [BestHour(day, hour, f.positive, f.positive_pct) for day, hour, f in ranked[:limit]]


def named(counts: Iterable[Count], names: Mapping[str, str]) -> list[tuple[str, int]]:
    """(name, times chosen) of praise options' counts (an id without a name shows as itself)."""
    return [(names.get(c.value, c.value), c.n) for c in counts]


def team_board(store: StoreRef, today: date, days: Mapping[date, Figure], cells: Mapping[tuple[int, int], Figure],
               newest: Sequence[PraiseMessage], with_comment: Sequence[PraiseMessage], names: Mapping[str, str],
               praise_today: Iterable[Count], praise_week: Iterable[Count]) -> TeamBoard:
    """The team screen of ``store`` on its local date ``today``: ``days`` its daily figures of the week,
    ``cells`` its figures per (weekday, hour) of the week, today's newest praise messages and the newest of
    them with a comment (newest first, :func:`pick` chooses), ``names`` praise ids -> names, and the praise
    options' counts today and this week."""
    first, _ = week_of(today)
    fig = days.get(today) or empty(store.scale)
    week = merge(f for d, f in days.items() if first <= d <= today)
    return TeamBoard(store=store, today=today, smiles=fig.positive, n=fig.n, share=fig.positive_pct,
                     messages=messages(pick(newest, with_comment), names, {store.id: store}),
                     praise_today=named(praise_today, names), week_smiles=week.positive,
                     best_hours=best_hours(cells, today), praise_week=named(praise_week, names))
