"""RFC 3339 UTC timestamps with milliseconds: fixed width, so text order is time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hymy.timestamps import format_ts, ms_between, parse_ts, utcnow


def test_format_is_utc_with_milliseconds_truncated():
    helsinki = timezone(timedelta(hours=2))
    assert format_ts(datetime(2026, 11, 23, 13, 30, 0, 123999, tzinfo=helsinki)) == "2026-11-23T11:30:00.123Z"


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        format_ts(datetime(2026, 11, 23))


@pytest.mark.parametrize("text, expected", [
    ("2026-11-23T11:30:00.123Z", datetime(2026, 11, 23, 11, 30, 0, 123000, tzinfo=UTC)),
    ("2026-11-23T13:30:00+02:00", datetime(2026, 11, 23, 11, 30, tzinfo=UTC)),
    ("2026-11-23t11:30:00z", datetime(2026, 11, 23, 11, 30, tzinfo=UTC)),
])
def test_parse(text, expected):
    assert parse_ts(text) == expected and parse_ts(text).tzinfo == UTC


@pytest.mark.parametrize("bad", ["2026-11-23T11:30:00", "yesterday", "", None, 12])
def test_parse_refuses_with_an_example(bad):
    with pytest.raises(ValueError, match="timestamp: "):
        parse_ts(bad)


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)))
def test_round_trip_and_text_order_is_time_order(dt):
    text = format_ts(dt)
    assert len(text) == 24
    back = parse_ts(text)
    assert back == dt.replace(microsecond=dt.microsecond // 1000 * 1000)
    later = dt + timedelta(milliseconds=1) if dt.year < 9999 else dt
    assert (format_ts(later) >= text)


def test_ms_between_and_utcnow():
    a = utcnow()
    assert a.tzinfo == UTC
    assert ms_between(a, a + timedelta(seconds=1.5)) == 1500
    assert ms_between(a + timedelta(seconds=1), a) == -1000
