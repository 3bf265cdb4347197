"""How long to wait before trying the server again: full-jitter exponential backoff and ``Retry-After``.

Pure: no clock, no sleep, no network. The agent asks for a delay and schedules it in its own loop, so
heartbeats, "sync now" requests and watchdog pings carry on while delivery waits.

Full jitter (``delay = random(0, min(cap, base * 2**attempt))``) spreads a fleet of kiosks that all lost
the server at the same moment, so they do not return in one synchronised wave. A server's
``Retry-After`` (seconds or an HTTP date) is a floor on the delay: we never come back sooner than asked.

Why not tenacity: it wraps one call in a retry loop that sleeps; the agent needs the delay as a number
to interleave other work, and the formula is one line.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

#: First backoff window, in seconds.
BASE_S = 1.0
#: Largest backoff window, in seconds (5 minutes).
CAP_S = 300.0
#: Longest ``Retry-After`` we obey, in seconds (1 hour): a broken header must not park a kiosk for a year.
MAX_RETRY_AFTER_S = 3600.0


def full_jitter(attempt: int, rand: Callable[[], float] = random.random, *,
                base: float = BASE_S, cap: float = CAP_S) -> float:
    """Seconds to wait before retry number ``attempt`` (0 = first retry): uniform in [0, min(cap, base*2**attempt)).

    ``rand`` returns a float in [0, 1); inject a seeded one in tests.
    """
    if attempt < 0:
        raise ValueError(f"attempt: {attempt} is negative; use 0 for the first retry")
    window = cap if attempt >= 64 else min(cap, base * (2**attempt))
    return rand() * window


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (``"120"`` or ``"Wed, 21 Oct 2026 07:28:00 GMT"``).

    Returns None when the header is missing or unreadable, 0 for a date in the past; at most
    ``MAX_RETRY_AFTER_S``. ``now`` (aware) defaults to the wall clock.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # RFC 7231 dates are GMT
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER_S)


class Backoff:
    """Consecutive-failure counter turned into delays: ``failure()`` returns the next wait, ``success()`` resets.

    ``base`` and ``cap`` in seconds (defaults 1 s and 5 min); ``rand`` as in ``full_jitter``.
    """

    def __init__(self, *, base: float = BASE_S, cap: float = CAP_S, rand: Callable[[], float] = random.random):
        self.base = base
        self.cap = cap
        self.rand = rand
        self.attempt = 0

    def failure(self, retry_after: float | None = None) -> float:
        """The delay after one more failure: full jitter, but never less than ``retry_after``."""
        delay = full_jitter(self.attempt, self.rand, base=self.base, cap=self.cap)
        self.attempt = min(self.attempt + 1, 64)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def success(self) -> None:
        self.attempt = 0
