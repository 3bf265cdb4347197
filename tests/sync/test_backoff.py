"""sync.backoff: full jitter stays inside its window; Retry-After in seconds or as an HTTP date; caps per failure kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.backoff import (
    CAP_S,
    MAX_RETRY_AFTER_S,
    UNREACHABLE_CAP_S,
    Backoff,
    Failure,
    full_jitter,
    parse_retry_after,
)


@given(st.integers(0, 200), st.floats(0, 0.999999))
def test_full_jitter_stays_within_exponential_window_and_cap(attempt, r):
    delay = full_jitter(attempt, lambda: r)
    assert 0 <= delay <= min(CAP_S, 2.0**min(attempt, 60))


def test_full_jitter_window_doubles_then_caps():
    top = [full_jitter(a, lambda: 0.999999) for a in range(12)]
    assert top[0] < 1 and 1.9 < top[1] < 2 and 3.9 < top[2] < 4
    assert all(t <= CAP_S for t in top) and top[-1] > 299


def test_full_jitter_refuses_negative_attempt():
    with pytest.raises(ValueError, match="attempt"):
        full_jitter(-1)


def test_retry_after_seconds():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(str(10**9)) == MAX_RETRY_AFTER_S


def test_retry_after_http_date_in_the_future_and_past():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now) == pytest.approx(90, abs=1)
    earlier = format_datetime(now - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(earlier, now) == 0.0


@pytest.mark.parametrize("junk", [None, "", "soon", "-5", "1.5e3", "Wed, 99 Foo 2026"])
def test_retry_after_unreadable_is_none(junk):
    assert parse_retry_after(junk) is None


def test_backoff_honours_retry_after_as_floor_and_resets_on_success():
    b = Backoff(rand=lambda: 0.0)
    assert b.failure() == 0.0
    assert b.failure(retry_after=30) == 30
    assert b.attempt == 2
    b.success()
    assert b.attempt == 0


def test_backoff_grows_to_cap_after_many_failures():
    b = Backoff(rand=lambda: 0.999)
    delays = [b.failure() for _ in range(20)]
    assert delays[0] < 1 < delays[3] and max(delays) <= CAP_S and delays[-1] > 290


def test_backoff_caps_per_failure_kind():
    """A server that cannot be reached costs it nothing: retried within 20 s. A failure the server
    answered (5xx, 429) keeps the 5-minute cap. Each kind counts its own failures in a row."""
    b = Backoff(rand=lambda: 0.999999)
    assert b.cap(Failure.unreachable) == UNREACHABLE_CAP_S == 20.0 and b.cap(Failure.server) == CAP_S == 300.0
    refused = [b.failure(kind=Failure.unreachable) for _ in range(40)]
    assert max(refused) <= UNREACHABLE_CAP_S and refused[-1] > UNREACHABLE_CAP_S - 0.1
    assert b.failure(kind=Failure.server) < 1.0, "a long outage of refused connections does not lengthen 5xx waits"
    server = [b.failure(kind=Failure.server) for _ in range(40)]
    assert max(server) <= CAP_S and server[-1] > CAP_S - 1
    assert b.failure(kind=Failure.unreachable) > UNREACHABLE_CAP_S - 0.1, "and a run of 5xx is not cut short"
    b.success()
    assert b.attempt == 0 and b.failure(kind=Failure.unreachable) < 1.0 and b.failure() < 1.0


def test_backoff_retry_after_is_a_floor_for_every_kind():
    b = Backoff(rand=lambda: 0.0)
    assert b.failure(retry_after=120, kind=Failure.server) == 120
    assert b.failure(retry_after=45, kind=Failure.unreachable) == 45


def test_backoff_short_cap_never_above_the_long_one():
    assert Backoff(cap=5.0).cap(Failure.unreachable) == 5.0
    assert Backoff(cap=600.0, unreachable_cap=30.0).cap(Failure.unreachable) == 30.0
