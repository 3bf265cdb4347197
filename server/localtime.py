"""Local dates and hour buckets in a store's IANA zone (pure). The rule and why: docs/time.md.

A local day runs from its local midnight to the next one (24 hours, or what the zone's clock changes
make it: 23 or 25 on most DST days, 23.5 or 24.5 on Lord Howe's, 22 or 26 on Troll's). Its hour
buckets are the stretches of the day between the instants where a new bucket starts:

- the start of the day;
- every instant where the local clock reads HH:00:00 (on the autumn DST day in Europe/Helsinki the
  clock reads 03:00 twice, so the day has two 03:00 buckets and 25 in all);
- every offset change after which the clock shows another hour than just before it, although not
  HH:00 (Australia/Lord_Howe moves from 01:59 to 02:30: a 30-minute bucket "02:30").

An offset change that leaves the clock in the same hour starts nothing (Lord_Howe's 01:59 -> 01:30:
the 01:00 bucket lasts 90 minutes). So every instant of a day is in exactly one bucket, in every zone.
A bucket is stored as its UTC start (``hour_utc``) and shown as its local start ("02:30+11:00").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from hymy.hours import zone
from hymy.timestamps import format_ts

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """UTC instants of local midnight of ``day`` and of the next day (a skipped midnight: the instant
    the clock jumped past it; a repeated one: its first occurrence)."""
    z = zone(tz)
    start = datetime.combine(day, time(0), tzinfo=z).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=z).astimezone(UTC)
    return start, end


def offset_changes(tz: str, start: datetime, end: datetime) -> list[datetime]:
    """The instants in ``(start, end)`` (aware UTC) at which zone ``tz``'s UTC offset changes, exact to
    the second: tzdata changes offsets on whole seconds and at most once a day (no two changes of any
    zone since 1970 are less than 6 days apart), so a day whose two ends agree has none."""
    z = zone(tz)
    out: list[datetime] = []
    a, off_a = start, start.astimezone(z).utcoffset()
    while a < end:
        b = min(a + _DAY, end)
        if b.astimezone(z).utcoffset() == off_a:
            a = b
            continue
        lo, hi = 0, -(-(b - a) // timedelta(seconds=1))  # offset is off_a at a + lo, another at a + hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if (a + timedelta(seconds=mid)).astimezone(z).utcoffset() == off_a:
                lo = mid
            else:
                hi = mid
        a = min(a + timedelta(seconds=hi), b)
        if a < end:
            out.append(a)
        off_a = a.astimezone(z).utcoffset()
    return out


@lru_cache(maxsize=8192)
def _day(day: date, tz: str) -> tuple[tuple[datetime, ...], tuple[str, ...], datetime, datetime]:
    """``(bucket starts, their format_ts texts, start, end)`` of local date ``day`` (cached)."""
    z = zone(tz)
    start, end = day_bounds(day, tz)
    starts = {start} if start < end else set()
    edges = [start, *offset_changes(tz, start, end), end]
    for a, b in zip(edges, edges[1:], strict=False):
        local = a.astimezone(z)
        if a != start:  # an offset change: a bucket starts when the clock shows another hour
            before = (a - _TICK).astimezone(z)
            if (local.date(), local.hour) != (before.date(), before.hour):
                starts.add(a)
        # and at every HH:00:00 the clock reads until the next change (the offset holds in [a, b))
        wall = local.replace(tzinfo=None)
        first = wall.replace(minute=0, second=0, microsecond=0)
        at = a if first == wall else a + (first + _HOUR - wall)
        while at < b:
            starts.add(at)
            at += _HOUR
    ordered = tuple(sorted(starts))
    return ordered, tuple(format_ts(s) for s in ordered), start, end


def _day_of(at: datetime, z, tz: str):
    """``(local date, _day(...))`` of the day whose bounds hold ``at``: its local date, except after a
    change that turned the clock back past midnight (St. John's until 2011: 00:01 -> 23:01 of the day
    before), where the hour after the change belongs to the day that had begun."""
    day = at.astimezone(z).date()
    got = _day(day, tz)
    while at >= got[3]:
        day += _DAY
        got = _day(day, tz)
    while at < got[2]:
        day -= _DAY
        got = _day(day, tz)
    return day, got


def hours_of_day(day: date, tz: str) -> list[tuple[str, str]]:
    """Every hour bucket of ``day``: ``(hour_utc, local start "YYYY-MM-DDTHH:MM+hh:mm")``, in order
    (24 on most days; 23 or 25 on DST days; 24 with one of 30 or 90 minutes on Lord Howe's)."""
    starts, texts, _, _ = _day(day, tz)
    z = zone(tz)
    return [(text, s.astimezone(z).isoformat(timespec="minutes")) for s, text in zip(starts, texts, strict=True)]


def bucket_index(hours: list[str], hour_utc: str) -> int:
    """Index in ``hours`` (a day's ``hour_utc`` texts, in order) of the bucket holding the instant
    ``hour_utc``: a stored bucket start made by an earlier rule still lands in exactly one bucket."""
    return max(bisect_right(hours, hour_utc) - 1, 0)


def bucket(at: datetime, tz: str) -> tuple[str, str]:
    """``(local_date "YYYY-MM-DD", hour_utc RFC 3339)`` of the aware instant ``at`` in zone ``tz``."""
    day, (starts, texts, _, _) = _day_of(at, zone(tz), tz)
    return day.isoformat(), texts[bisect_right(starts, at) - 1]


class Bucketer:
    """``bucket`` for many instants of one zone, fast: it remembers the last bucket as a UTC range
    (exactly the bucket's own start and end, so it gives what :func:`bucket` gives; tests compare).
    :meth:`of` gives the zone's shared one (its memory is one tuple, replaced whole, so threads may share
    it: each reads a whole bucket, at worst one another thread just left)."""

    __slots__ = ("tz", "_zone", "_last")
    _shared: dict[str, Bucketer] = {}

    def __init__(self, tz: str):
        self.tz = tz
        self._zone = zone(tz)
        self._last: tuple | None = None  # (lo, hi, lo_text, hi_text, value)

    @classmethod
    def of(cls, tz: str) -> Bucketer:
        """The shared Bucketer of zone ``tz`` (batches of one store mostly fall in the same hour)."""
        got = cls._shared.get(tz)
        if got is None:
            got = cls._shared.setdefault(tz, cls(tz))
        return got

    def __call__(self, at: datetime, text: str | None = None) -> tuple[str, str]:
        """The bucket of ``at``; ``text``, when given, is ``at`` as canonical UTC text (``format_ts``),
        compared as text (canonical texts order as their times)."""
        last = self._last
        if last is not None and (last[2] <= text < last[3] if text else last[0] <= at < last[1]):
            return last[4]
        day, (starts, texts, _, end) = _day_of(at, self._zone, self.tz)
        i = bisect_right(starts, at) - 1
        value = (day.isoformat(), texts[i])
        if i + 1 < len(starts):
            self._last = (starts[i], starts[i + 1], texts[i], texts[i + 1], value)
        else:
            self._last = (starts[i], end, texts[i], format_ts(end), value)
        return value


#: The local dates the server answers about. Every stored press falls on one of them (presses are stored
#: from 1970 to 2100 UTC), and the bounds of each, and of the day after, exist in every zone (year 1 and
#: year 9999 overflow ``datetime``).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)

_MONTH_DAY = r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
_LEAP_YEAR = r"(?:19(?:0[48]|[2468][048]|[13579][26])|20(?:0[048]|[2468][048]|[13579][26]))"  # 1900, 2100: no
#: Exactly the texts :func:`parse_day` accepts (real dates FIRST_DAY..LAST_DAY as YYYY-MM-DD): the API's
#: OpenAPI document gives it, so a generated date is one the server takes (a test compares the two).
DATE_PATTERN = rf"^(?:(?:19[0-9]{{2}}|20[0-9]{{2}}|2100)-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)$"
_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(text: str, name: str = "date") -> date:
    """A ``YYYY-MM-DD`` local date from FIRST_DAY to LAST_DAY; ValueError naming the parameter otherwise."""
    if not isinstance(text, str) or not _SHAPE.fullmatch(text):
        raise ValueError(f"{name}: {text!r} is not a date like 2026-11-23")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a date of the calendar") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{name}: {text} is outside {FIRST_DAY}..{LAST_DAY}, the dates Hymy answers about")
    return day


def utc_now() -> datetime:
    return datetime.now(UTC)
