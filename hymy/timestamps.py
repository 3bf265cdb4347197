"""RFC 3339 UTC timestamps with millisecond precision, as on the wire and in both stores.

Always ``YYYY-MM-DDTHH:MM:SS.mmmZ``: fixed width, so text order is time order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    """The wall clock now, as an aware UTC datetime."""
    return datetime.now(UTC)


def format_ts(dt: datetime) -> str:
    """``2026-11-23T11:30:00.123Z`` from an aware datetime (microseconds truncated to ms)."""
    if dt.tzinfo is None:
        raise ValueError("timestamp: a naive datetime has no time zone; use an aware UTC datetime")
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with an offset (``Z`` or ``+02:00``) into aware UTC."""
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        raise ValueError(f"timestamp: {text!r} is not RFC 3339 (e.g. 2026-11-23T11:30:00.123Z)") from None
    if dt.tzinfo is None:
        raise ValueError(f"timestamp: {text!r} has no offset; add Z for UTC")
    return dt.astimezone(UTC)


def ms_between(a: datetime, b: datetime) -> int:
    """Whole milliseconds from ``a`` to ``b`` (negative when b is earlier)."""
    return (b - a) // timedelta(milliseconds=1)
