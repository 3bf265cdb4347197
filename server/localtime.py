"""Local dates and hour buckets in a store's IANA zone (pure; DST days have 23 or 25 hours).

An hour bucket is the start of the local clock hour, expressed in UTC (``hour_utc``). On the autumn
DST day the local hour 03:00 happens twice; the two occurrences have different UTC starts, so they stay
two buckets and the day has 25 of them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hymy.hours import zone
from hymy.timestamps import format_ts


def bucket(at: datetime, tz: str) -> tuple[str, str]:
    """``(local_date "YYYY-MM-DD", hour_utc RFC 3339)`` of the aware instant ``at`` in zone ``tz``."""
    local = at.astimezone(zone(tz))
    start = local.replace(minute=0, second=0, microsecond=0)  # keeps `fold`, so DST repeats stay apart
    return local.date().isoformat(), start.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class Bucketer:
    """``bucket`` for many instants of one zone, fast: it remembers the last local hour as a UTC range.

    A local hour is reused only when it starts at HH:00 local and the zone's offset is the same at its
    first and last microsecond (no transition inside it), so DST days, repeated autumn hours and
    half-hour zones give exactly what :func:`bucket` gives (tests compare the two in many zones).
    """

    __slots__ = ("tz", "_zone", "_lo", "_hi", "_lo_text", "_hi_text", "_value")

    def __init__(self, tz: str):
        self.tz = tz
        self._zone = zone(tz)
        self._lo = self._hi = None
        self._lo_text = self._hi_text = ""
        self._value: tuple[str, str] = ("", "")

    def __call__(self, at: datetime, text: str | None = None) -> tuple[str, str]:
        """The bucket of ``at``; ``text``, when given, is ``at`` as canonical UTC text (``format_ts``),
        compared as text (canonical texts order as their times)."""
        if self._lo is not None and (self._lo_text <= text < self._hi_text if text else self._lo <= at < self._hi):
            return self._value
        value = bucket(at, self.tz)
        start = datetime.fromisoformat(value[1])
        first = start.astimezone(self._zone)
        last = (start + _HOUR_LESS_1US).astimezone(self._zone)
        # reusable when the hour really starts at HH:00 local (not inside a skipped stretch) and no
        # offset change happens before it ends (zones change offset at most once an hour)
        if first.minute == first.second == 0 and first.utcoffset() == last.utcoffset():
            self._lo, self._hi, self._value = start, start + _HOUR, value
            self._lo_text, self._hi_text = value[1], format_ts(start + _HOUR)
        else:
            self._lo = self._hi = None
        return value


_HOUR = timedelta(hours=1)
_HOUR_LESS_1US = _HOUR - timedelta(microseconds=1)


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """UTC instants of local midnight of ``day`` and of the next day."""
    z = zone(tz)
    start = datetime.combine(day, time(0), tzinfo=z).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=z).astimezone(UTC)
    return start, end


def hours_of_day(day: date, tz: str) -> list[tuple[str, str]]:
    """Every local hour of ``day``: ``(hour_utc, local label "HH:MM+hh:mm")``; 23, 24 or 25 of them."""
    start, end = day_bounds(day, tz)
    z = zone(tz)
    out = []
    at = start
    while at < end:
        local = at.astimezone(z)
        out.append((format_ts(at), local.isoformat(timespec="minutes")))
        at += timedelta(hours=1)
    return out


def parse_day(text: str, name: str = "date") -> date:
    """A ``YYYY-MM-DD`` local date; ValueError naming the parameter otherwise."""
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {text!r} is not a date like 2026-11-23") from None


def utc_now() -> datetime:
    return datetime.now(UTC)
