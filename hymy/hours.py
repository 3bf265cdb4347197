"""Opening hours in a store's own time zone: the one definition the kiosk, alerts and reports use.

Hours are a mapping from weekday (``mon`` .. ``sun``) to intervals ``"HH:MM-HH:MM"`` in local time.
An interval whose end is not after its start runs past midnight (``"22:00-02:00"``) and belongs to
the day it starts on; ``24:00`` is allowed as an end. A day missing from the mapping is closed.
No hours at all (None or an empty mapping) means always open.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")

OpeningHours = Mapping[str, Sequence[str]]


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Europe/Helsinki``); ValueError naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"timezone: {name!r} is not an IANA time zone (e.g. Europe/Helsinki)") from None


def parse_interval(text: str) -> tuple[int, int]:
    """``"08:30-21:00"`` -> minutes since midnight (510, 1260); the end may be 24:00 or wrap."""
    m = _INTERVAL.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"{text!r} is not an interval like 08:00-21:00")
    h1, m1, h2, m2 = map(int, m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has a time that does not exist (hours 00-23, 24:00 only as an end)")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ValueError(f"{text!r} is empty (start equals end)")
    return start, end


def validate_hours(hours: OpeningHours | None) -> list[str]:
    """Problems with ``hours`` as ``"opening_hours.mon[0]: ..."`` sentences; empty when valid."""
    problems: list[str] = []
    if not hours:
        return problems
    for day, intervals in hours.items():
        if day not in WEEKDAYS:
            problems.append(f"opening_hours.{day}: unknown weekday; use one of {', '.join(WEEKDAYS)}")
            continue
        if isinstance(intervals, str):
            intervals = [intervals]
        for i, text in enumerate(intervals):
            try:
                parse_interval(text)
            except ValueError as exc:
                problems.append(f"opening_hours.{day}[{i}]: {exc}")
    return problems


def is_open(hours: OpeningHours | None, tz: str | ZoneInfo, at: datetime) -> bool:
    """Whether the store is open at the aware instant ``at``, judged on its local wall clock."""
    if not hours:
        return True
    tzinfo = zone(tz) if isinstance(tz, str) else tz
    local = at.astimezone(tzinfo)
    minute = local.hour * 60 + local.minute
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    for start, end in _intervals(hours, today):
        if start < end and start <= minute < end:
            return True
        if end < start and minute >= start:  # opens today, runs past midnight
            return True
    return any(end < start and minute < end for start, end in _intervals(hours, yesterday))


def closing_time(hours: OpeningHours | None, tz: str | ZoneInfo, day: datetime) -> datetime | None:
    """The aware UTC instant the store last closes on the local date of ``day``; None when closed
    all day or without hours. Used to send the daily report after closing."""
    if not hours:
        return None
    tzinfo = zone(tz) if isinstance(tz, str) else tz
    local_date = day.astimezone(tzinfo).date()
    ends = [end if end > start else end + 24 * 60 for start, end in _intervals(hours, WEEKDAYS[local_date.weekday()])]
    if not ends:
        return None
    base = datetime.combine(local_date, time(0), tzinfo)
    return (base + timedelta(minutes=max(ends))).astimezone(UTC)


def open_on(hours: OpeningHours | None, day: date) -> bool:
    """Whether the store is open at some moment of local date ``day``: an interval of its weekday, or one
    of the day before that runs past midnight. True without hours (always open)."""
    return open_hours(hours, day) != []


def open_hours(hours: OpeningHours | None, day: date) -> list[int] | None:
    """The local hours (0-23, ascending) of date ``day`` in which the store is open at some minute: its
    weekday's intervals and the part after midnight of the day before's late interval. None without
    hours (always open: the caller decides which hours to show); [] on a closed day."""
    if not hours:
        return None
    out: set[int] = set()
    for start, end in _intervals(hours, WEEKDAYS[day.weekday()]):
        stop = end if end > start else 24 * 60
        out.update(range(start // 60, (stop + 59) // 60))
    for start, end in _intervals(hours, WEEKDAYS[(day.weekday() - 1) % 7]):
        if end < start:
            out.update(range(0, (end + 59) // 60))
    return sorted(out)


def next_opening(hours: OpeningHours | None, tz: str | ZoneInfo, after: datetime) -> datetime | None:
    """The aware UTC instant the store next opens (an interval starts) strictly after ``after``, within
    the coming week; None without hours (always open) or when no day has an interval. A start inside a
    DST gap is read with the offset before the change (zoneinfo's ``fold=0``)."""
    if not hours:
        return None
    tzinfo = zone(tz) if isinstance(tz, str) else tz
    today = after.astimezone(tzinfo).date()
    for ahead in range(8):
        day = today + timedelta(days=ahead)
        for start, _end in sorted(_intervals(hours, WEEKDAYS[day.weekday()])):
            at = datetime.combine(day, time(start // 60, start % 60), tzinfo).astimezone(UTC)
            if at > after:
                return at
    return None


def _intervals(hours: OpeningHours, day: str) -> list[tuple[int, int]]:
    raw = hours.get(day) or []
    if isinstance(raw, str):
        raw = [raw]
    return [parse_interval(text) for text in raw]
