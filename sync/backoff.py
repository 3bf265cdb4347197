"""How long to wait before trying the server again: full-jitter exponential backoff and ``Retry-After``.

Pure: no clock, no sleep, no network. The agent asks for a delay and schedules it in its own loop, so
heartbeats, "sync now" requests and watchdog pings carry on while delivery waits.

Full jitter (``delay = random(0, min(cap, base * 2**attempt))``) spreads a fleet of kiosks that all lost
the server at the same moment, so they do not return in one synchronised wave. A server's
``Retry-After`` (seconds or an HTTP date) is a floor on the delay: we never come back sooner than asked.

The cap depends on the kind of failure (``Failure``). A request that never reached the server
(connection refused, name not resolved, connect timeout: the server is down, restarting or cut off)
cost it nothing, so it is retried on a short cap (``UNREACHABLE_CAP_S``, 20 s) and a device catches up
within seconds of the server's return. A failure the server (or a proxy in front of it) answered or
worked on (5xx, 429, 408, a read timeout, a connection reset mid-request) keeps the long cap
(``CAP_S``, 5 minutes), so an overloaded server is not hammered by its fleet. Each kind counts its own
failures in a row: a long outage of refused connections does not make the first 503 after it wait 5
minutes, and a run of 503s is not cut short by one refused connection.

Why not tenacity: it wraps one call in a retry loop that sleeps; the agent needs the delay as a number
to interleave other work (heartbeats, "sync now", watchdog pings), its wait strategies draw from the
module-level ``random`` (the tests and the state machine inject a seeded one here), and the formula is
one line.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

#: First backoff window, in seconds.
BASE_S = 1.0
#: Largest backoff window after failures that reached the server (5xx, 429...), in seconds (5 minutes).
CAP_S = 300.0
#: Largest backoff window while the server cannot be reached at all (connection refused...), in seconds.
UNREACHABLE_CAP_S = 20.0


class Failure(StrEnum):
    """The kind of failure a retry follows; each kind has its own cap (``Backoff.cap``)."""

    #: Nothing reached the server: connection refused, host name not resolved, connect timeout.
    unreachable = "unreachable"
    #: The server or a proxy took the request: 5xx, 429, 408, read timeout, reset, unusable answer.
    server = "server"
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
    """Consecutive failures per kind turned into delays: ``failure()`` returns the next wait, ``success()`` resets.

    ``base`` and ``cap`` (failures that reached the server) in seconds, defaults 1 s and 5 min;
    ``unreachable_cap`` (the server was not reached) defaults to 20 s and is never above ``cap``;
    ``rand`` as in ``full_jitter``.
    """

    def __init__(self, *, base: float = BASE_S, cap: float = CAP_S, unreachable_cap: float = UNREACHABLE_CAP_S,
                 rand: Callable[[], float] = random.random):
        self.base = base
        self.caps = {Failure.server: cap, Failure.unreachable: min(unreachable_cap, cap)}
        self.rand = rand
        self.attempts = dict.fromkeys(Failure, 0)

    def cap(self, kind: Failure = Failure.server) -> float:
        """The largest delay (seconds) after failures of ``kind``, ``Retry-After`` aside."""
        return self.caps[kind]

    @property
    def attempt(self) -> int:
        """Failures in a row since the last success, of every kind."""
        return sum(self.attempts.values())

    def failure(self, retry_after: float | None = None, kind: Failure = Failure.server) -> float:
        """The delay after one more failure of ``kind``: full jitter within that kind's cap, but never
        less than ``retry_after`` (seconds, from the server's ``Retry-After``)."""
        delay = full_jitter(self.attempts[kind], self.rand, base=self.base, cap=self.caps[kind])
        self.attempts[kind] = min(self.attempts[kind] + 1, 64)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def success(self) -> None:
        self.attempts = dict.fromkeys(Failure, 0)
