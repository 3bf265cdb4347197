"""server.reports.scheduler.due_reports: after closing time in the store's zone, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from server.reports.scheduler import Due, StoreSchedule, due_reports, send_after

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HEL = StoreSchedule("s1", "Europe/Helsinki", {d: ["08:00-21:00"] for d in DAYS})
NYC = StoreSchedule("s2", "America/New_York", {d: ["09:00-17:00"] for d in DAYS[:5]})  # closed weekends


def at(y, m, d, h, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def test_schedule_daily_report_is_due_15_min_after_local_closing():
    # Monday 23.11.2026: Helsinki is UTC+2, closes 21:00 local = 19:00 UTC
    assert Due("s1", "daily", date(2026, 11, 23)) not in due_reports(at(2026, 11, 23, 19, 14), [HEL])
    assert Due("s1", "daily", date(2026, 11, 23)) in due_reports(at(2026, 11, 23, 19, 15), [HEL])


def test_schedule_follows_dst_changes_of_the_store_zone():
    # 25.10.2026 (Sunday) Helsinki falls back to UTC+2: closing 21:00 local is 19:00 UTC;
    # the day before (UTC+3) it was 18:00 UTC.
    assert send_after(HEL, date(2026, 10, 24)) == at(2026, 10, 24, 18)
    assert send_after(HEL, date(2026, 10, 25)) == at(2026, 10, 25, 19)
    # 29.3.2026 spring forward: from 19:00 UTC (UTC+2) to 18:00 UTC (UTC+3)
    assert send_after(HEL, date(2026, 3, 28)) == at(2026, 3, 28, 19)
    assert send_after(HEL, date(2026, 3, 29)) == at(2026, 3, 29, 18)


def test_schedule_catches_up_yesterday_only_and_skips_closed_days():
    now = at(2026, 11, 24, 6)  # Tuesday morning in both zones
    got = due_reports(now, [HEL, NYC])
    assert Due("s1", "daily", date(2026, 11, 23)) in got and Due("s2", "daily", date(2026, 11, 23)) in got
    assert not [d for d in got if d.local_date < date(2026, 11, 23)]
    sunday = due_reports(at(2026, 11, 23, 5), [NYC])  # Sunday 22.11 evening in New York: closed all day
    assert Due("s2", "daily", date(2026, 11, 22)) not in sunday


def test_schedule_without_hours_sends_after_local_midnight():
    always = StoreSchedule("s3", "Europe/Helsinki", None)
    assert send_after(always, date(2026, 11, 23)) == at(2026, 11, 23, 22)  # 00:00 local on the 24th
    assert not [d for d in due_reports(at(2026, 11, 23, 22, 10), [always]) if d.local_date == date(2026, 11, 23)]
    assert Due("s3", "daily", date(2026, 11, 23)) in due_reports(at(2026, 11, 23, 22, 15), [always])


def test_schedule_weekly_after_sunday_closing_keyed_by_monday():
    weekly = StoreSchedule("s1", "Europe/Helsinki", HEL.opening_hours, daily=False, weekly=True)
    # week Mon 16.11 - Sun 22.11.2026; Sunday closes 19:00 UTC
    this_week = Due("s1", "weekly", date(2026, 11, 16))
    assert this_week not in due_reports(at(2026, 11, 22, 19, 0), [weekly])
    # (the week before is still "due": the claim in report_sends keeps it from going twice)
    assert due_reports(at(2026, 11, 22, 19, 15), [weekly]) == [Due("s1", "weekly", date(2026, 11, 9)), this_week]
    assert due_reports(at(2026, 11, 25, 12), [weekly]) == [Due("s1", "weekly", date(2026, 11, 16))]


def test_schedule_no_report_switched_on_means_nothing_due():
    off = StoreSchedule("s1", "Europe/Helsinki", None, daily=False, weekly=False)
    assert due_reports(at(2026, 11, 24, 12) + timedelta(days=3), [off]) == []
