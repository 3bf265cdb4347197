"""Opening hours in the store's own zone: overnight intervals, 24:00, DST days, validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hymy.hours import WEEKDAYS, closing_time, is_open, parse_interval, validate_hours, zone

HEL = "Europe/Helsinki"


def local(y, mo, d, h, mi=0, tz=HEL) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone(tz)).astimezone(UTC)


def test_parse_interval():
    assert parse_interval("08:30-21:00") == (510, 1260)
    assert parse_interval("00:00-24:00") == (0, 1440)
    assert parse_interval("22:00-02:00") == (1320, 120)


@pytest.mark.parametrize("bad", ["8-21", "08:00-21", "25:00-26:00", "08:60-09:00", "24:00-02:00", "08:00-24:30",
                                 "10:00-10:00", "", None, 800])
def test_parse_interval_refuses_bad_text_with_an_example(bad):
    with pytest.raises(ValueError, match="08:00-21:00|does not exist|empty"):
        parse_interval(bad)


def test_validate_hours_names_day_and_index():
    problems = validate_hours({"mon": ["08:00-21:00", "9-5"], "funday": ["08:00-09:00"], "tue": "25:00-26:00"})
    assert problems[0].startswith("opening_hours.mon[1]: '9-5' is not an interval")
    assert problems[1] == "opening_hours.funday: unknown weekday; use one of mon, tue, wed, thu, fri, sat, sun"
    assert problems[2].startswith("opening_hours.tue[0]:")
    assert validate_hours(None) == [] and validate_hours({}) == []


def test_unknown_zone_is_named():
    with pytest.raises(ValueError, match="timezone: 'Mars/Olympus' is not an IANA time zone"):
        zone("Mars/Olympus")


def test_no_hours_means_always_open():
    assert is_open(None, HEL, local(2026, 11, 23, 3))
    assert is_open({}, HEL, local(2026, 11, 23, 3))


def test_simple_day_interval_start_inclusive_end_exclusive():
    hours = {"mon": ["08:00-21:00"]}
    assert not is_open(hours, HEL, local(2026, 11, 23, 7, 59))
    assert is_open(hours, HEL, local(2026, 11, 23, 8, 0))
    assert is_open(hours, HEL, local(2026, 11, 23, 20, 59))
    assert not is_open(hours, HEL, local(2026, 11, 23, 21, 0))
    assert not is_open(hours, HEL, local(2026, 11, 24, 12, 0)), "Tuesday has no hours: closed"


def test_split_day_lunch_break():
    hours = {"mon": ["08:00-12:00", "13:00-17:00"]}
    assert is_open(hours, HEL, local(2026, 11, 23, 11, 59))
    assert not is_open(hours, HEL, local(2026, 11, 23, 12, 30))
    assert is_open(hours, HEL, local(2026, 11, 23, 13, 0))


def test_overnight_interval_belongs_to_the_day_it_starts():
    hours = {"fri": ["20:00-04:00"]}  # Friday 27 Nov 2026
    assert is_open(hours, HEL, local(2026, 11, 27, 23, 0))
    assert is_open(hours, HEL, local(2026, 11, 28, 3, 59)), "Saturday 03:59 is Friday night"
    assert not is_open(hours, HEL, local(2026, 11, 28, 4, 0))
    assert not is_open(hours, HEL, local(2026, 11, 27, 3, 0)), "Friday 03:00 belongs to Thursday's (none)"
    sunday = {"sun": ["22:00-02:00"]}
    assert is_open(sunday, HEL, local(2026, 11, 30, 1, 0)), "Sunday night runs into Monday (week wraps)"


def test_interval_to_midnight_and_24_hours():
    assert is_open({"mon": ["18:00-24:00"]}, HEL, local(2026, 11, 23, 23, 59))
    assert not is_open({"mon": ["18:00-24:00"]}, HEL, local(2026, 11, 24, 0, 0))
    assert is_open({"mon": ["18:00-00:00"]}, HEL, local(2026, 11, 23, 23, 59))
    assert all(is_open({"mon": ["00:00-24:00"]}, HEL, local(2026, 11, 23, h)) for h in range(24))


def test_dst_spring_forward_day():
    """29 March 2026 in Helsinki: 03:00 jumps to 04:00. Local wall clock decides."""
    hours = {"sun": ["02:00-05:00"]}
    assert is_open(hours, HEL, datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # 02:30 EET
    assert is_open(hours, HEL, datetime(2026, 3, 29, 1, 0, tzinfo=UTC))  # 04:00 EEST
    assert not is_open(hours, HEL, datetime(2026, 3, 29, 2, 0, tzinfo=UTC))  # 05:00 EEST


def test_dst_fall_back_day():
    """25 October 2026: 04:00 EEST falls back to 03:00 EET; 03:xx happens twice and is open both times."""
    hours = {"sun": ["03:00-04:00"]}
    assert is_open(hours, HEL, datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # 03:30 EEST
    assert is_open(hours, HEL, datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 03:30 EET
    assert not is_open(hours, HEL, datetime(2026, 10, 25, 2, 0, tzinfo=UTC))  # 04:00 EET


def test_same_instant_open_in_one_zone_closed_in_another():
    hours = {"mon": ["08:00-09:00"]}
    at = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)
    assert is_open(hours, HEL, at)  # 08:30
    assert not is_open(hours, "Europe/Stockholm", at)  # 07:30


def test_closing_time():
    assert closing_time({"mon": ["08:00-21:00"]}, HEL, local(2026, 11, 23, 12)) == local(2026, 11, 23, 21)
    assert closing_time({"mon": ["20:00-02:00"]}, HEL, local(2026, 11, 23, 12)) == local(2026, 11, 24, 2)
    assert closing_time({"tue": ["08:00-21:00"]}, HEL, local(2026, 11, 23, 12)) is None
    assert closing_time(None, HEL, local(2026, 11, 23, 12)) is None


@given(day=st.sampled_from(WEEKDAYS), start=st.integers(0, 23 * 60 + 59), length=st.integers(1, 24 * 60 - 1),
       probe=st.integers(0, 7 * 24 * 60 - 1))
def test_is_open_matches_a_minute_by_minute_model(day, start, length, probe):
    """Property: on a zone without DST (UTC), an interval opens exactly its minutes, wrapping the week."""
    end = (start + length) % (24 * 60)
    text = f"{start // 60:02d}:{start % 60:02d}-" + ("24:00" if end == 0 else f"{end // 60:02d}:{end % 60:02d}")
    hours = {day: [text]}
    # 2026-11-23 is a Monday; probe minutes across that week
    at = datetime(2026, 11, 23, tzinfo=UTC).timestamp() + probe * 60
    week_minute = probe
    day_start = WEEKDAYS.index(day) * 24 * 60 + start
    inside = any(day_start <= week_minute + wrap < day_start + length for wrap in (0, 7 * 24 * 60))
    assert is_open(hours, "UTC", datetime.fromtimestamp(at, UTC)) is inside


def test_open_on_a_day_and_the_next_opening():
    """Today's "Closed today, opens Monday 08:00": a day without an interval is closed unless the day
    before runs past midnight; the next opening is the next interval start after the instant asked."""
    from datetime import date

    from hymy.hours import next_opening, open_on

    hours = {"mon": ["08:00-12:00", "13:00-17:00"], "sat": ["22:00-02:00"]}
    assert open_on(hours, date(2026, 11, 23)) and not open_on(hours, date(2026, 11, 24))  # Mon, Tue
    assert open_on(hours, date(2026, 11, 29))  # Sunday: Saturday's night runs into it
    assert open_on(None, date(2026, 11, 24)) and open_on({}, date(2026, 11, 24))
    tz = "Europe/Helsinki"
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert next_opening(hours, tz, sunday) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Mon 08:00 +02:00
    monday_noon = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)  # 12:30 local, in the lunch break
    assert next_opening(hours, tz, monday_noon) == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    assert next_opening(hours, tz, datetime(2026, 11, 30, 6, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 11, 0,
                                                                                          tzinfo=UTC)
    assert next_opening(None, tz, sunday) is None and next_opening({"mon": []}, tz, sunday) is None


def test_open_hours_of_a_day_leave_out_the_closed_ones():
    """The Day page and Today's strip draw only these: 10-18 on a 10:00-18:00 Sunday, not 08-20."""
    from datetime import date

    from hymy.hours import open_hours

    hours = {"sat": ["22:00-02:00"], "sun": ["10:00-18:00"], "mon": ["08:30-12:00", "13:00-16:15"]}
    assert open_hours(hours, date(2026, 11, 29)) == [0, 1, *range(10, 18)]  # Sunday, after Saturday night
    assert open_hours(hours, date(2026, 11, 30)) == [8, 9, 10, 11, 13, 14, 15, 16]
    assert open_hours(hours, date(2026, 11, 28)) == [22, 23]
    assert open_hours(hours, date(2026, 12, 1)) == [] and open_hours(None, date(2026, 12, 1)) is None
