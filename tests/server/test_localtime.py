"""Local days and hours in the store's zone: DST days in Europe/Helsinki have 23 and 25 hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from server.localtime import bucket, hours_of_day

from .conftest import press


def test_localtime_dst_days_have_23_and_25_hours():
    assert len(hours_of_day(date(2026, 3, 29), "Europe/Helsinki")) == 23
    assert len(hours_of_day(date(2026, 10, 25), "Europe/Helsinki")) == 25
    assert len(hours_of_day(date(2026, 11, 23), "Europe/Helsinki")) == 24


def test_localtime_repeated_autumn_hour_is_two_buckets():
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 03:30 EEST
    second = first + timedelta(hours=1)  # 03:30 EET
    b1, b2 = bucket(first, "Europe/Helsinki"), bucket(second, "Europe/Helsinki")
    assert b1[0] == b2[0] == "2026-10-25" and b1[1] != b2[1]


def test_hourly_endpoint_on_dst_days(client, world):
    autumn = [press(4, at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
              press(1, at=datetime(2026, 10, 25, 1, 30, tzinfo=UTC))]
    spring = [press(3, at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC))]  # 02:30 EET, just before the jump
    client.post("/api/v1/responses", json={"events": autumn + spring}, headers=world.device("s1"))
    a = client.get("/api/v1/stores/s1/hourly", params={"date": "2026-10-25"}, headers=world.user("admin")).json()
    assert len(a["hours"]) == 25
    threes = [h for h in a["hours"] if h["hour"].startswith("2026-10-25T03:00")]
    assert [(h["hour"], h["n"]) for h in threes] == [("2026-10-25T03:00+03:00", 1), ("2026-10-25T03:00+02:00", 1)]
    assert a["total"]["n"] == 2
    s = client.get("/api/v1/stores/s1/hourly", params={"date": "2026-03-29"}, headers=world.user("admin")).json()
    assert len(s["hours"]) == 23 and not any(h["hour"].startswith("2026-03-29T03:") for h in s["hours"])
    d = client.get("/api/v1/stores/s1/daily", params={"from": "2026-03-29", "to": "2026-10-25"},
                   headers=world.user("admin")).json()
    assert d["total"]["n"] == 3 and len(d["days"]) == 211


def test_bucketer_gives_what_bucket_gives_in_every_kind_of_zone():
    """The fast per-batch bucketer against the plain function: DST days, half-hour zones, a 30-minute
    DST shift (Lord Howe), odd historic offsets (Monrovia), instants given with and without their text."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from server.ingest import ts
    from server.localtime import Bucketer

    zones = ["Europe/Helsinki", "Europe/Stockholm", "America/St_Johns", "Asia/Kolkata", "Asia/Kathmandu",
             "Australia/Lord_Howe", "Africa/Monrovia", "Pacific/Chatham", "UTC"]

    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(zones), st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 1)),
           st.lists(st.integers(min_value=0, max_value=3 * 3600 * 1000), min_size=1, max_size=40),
           st.booleans())
    def check(tz, start, steps_ms, with_text):
        b = Bucketer(tz)
        at = start.replace(tzinfo=UTC)
        for step in steps_ms:
            at += timedelta(milliseconds=step)
            at = at.replace(microsecond=at.microsecond // 1000 * 1000)
            assert b(at, ts(at) if with_text else None) == bucket(at, tz), (tz, at)

    check()
    # and across a whole autumn DST day in Helsinki, minute by minute
    b = Bucketer("Europe/Helsinki")
    at = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)
    for _ in range(24 * 60):
        assert b(at, ts(at)) == bucket(at, "Europe/Helsinki")
        at += timedelta(minutes=1)


# --------------------------------------------------------------------------- every zone, every 2026 change


def _transition_days(tz: str, year: int) -> list[date]:
    """Local dates of ``year`` whose midnight-to-midnight span holds a UTC offset change, and the day
    after each (a change at midnight shapes both), found with zoneinfo alone."""
    from zoneinfo import ZoneInfo

    z = ZoneInfo(tz)
    out: set[date] = set()
    d = date(year, 1, 1)
    off = datetime.combine(d, datetime.min.time(), z).utcoffset()
    while d.year == year:
        nxt = datetime.combine(d + timedelta(days=1), datetime.min.time(), z).utcoffset()
        if nxt != off:
            out |= {d, d + timedelta(days=1)}
        off, d = nxt, d + timedelta(days=1)
    return sorted(x for x in out if x.year == year)


def _presses_every_15_min(day: date, tz: str) -> list[datetime]:
    """One instant every 15 minutes from the local midnight of ``day`` to the next one."""
    from zoneinfo import ZoneInfo

    z = ZoneInfo(tz)
    at = datetime.combine(day, datetime.min.time(), z).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), z).astimezone(UTC)
    out = []
    while at < end:
        out.append(at)
        at += timedelta(minutes=15)
    return out


def test_every_press_of_every_2026_transition_day_lands_in_one_hour_of_its_day_in_every_zone():
    """Issue 14.4: for every IANA zone and every local day of 2026 with an offset change, a press every
    15 minutes: the day's N (presses whose local date is the day) == the sum of its hours' N (presses
    whose bucket is one of the day's hours) == presses sent; each press lies inside its bucket."""
    from zoneinfo import available_timezones

    from server.ingest import ts
    from server.localtime import Bucketer

    zones = sorted(available_timezones())
    checked: dict[str, int] = {}
    problems = []
    for tz in zones:
        fast = Bucketer(tz)
        for day in _transition_days(tz, 2026):
            hours = hours_of_day(day, tz)
            starts = [h for h, _ in hours]
            per_hour = dict.fromkeys(starts, 0)
            sent = _presses_every_15_min(day, tz)
            daily = 0
            for at in sent:
                local_date, hour = bucket(at, tz)
                if fast(at, ts(at)) != (local_date, hour):
                    problems.append(f"{tz} {day}: Bucketer {fast(at, ts(at))} != bucket {(local_date, hour)}")
                daily += local_date == day.isoformat()
                if hour in per_hour:
                    per_hour[hour] += 1
                    i = starts.index(hour)
                    nxt = starts[i + 1] if i + 1 < len(starts) else ts(at + timedelta(days=1))
                    if not hour <= ts(at) < nxt:
                        problems.append(f"{tz} {day}: {ts(at)} outside its bucket {hour}..{nxt}")
            if not daily == sum(per_hour.values()) == len(sent):
                problems.append(f"{tz} {day}: sent {len(sent)}, daily {daily}, hourly {sum(per_hour.values())}")
            checked[tz] = checked.get(tz, 0) + 1
    assert not problems, problems[:10]
    # the check really covered the odd cases: half-hour and 2-hour shifts, midnight changes
    assert checked["Australia/Lord_Howe"] >= 2 and checked["Antarctica/Troll"] >= 2
    assert checked["America/Havana"] >= 2 and checked["Pacific/Chatham"] >= 2
    assert sum(checked.values()) > 700


def test_lord_howe_half_hour_shift_buckets_are_30_and_90_minutes():
    """Clocks go 02:00 -> 02:30 on 2026-10-04 (a 30-minute bucket "02:30") and 02:00 -> 01:30 on
    2026-04-05 (the 01:00 bucket lasts 90 minutes); a bucket is labelled by its local start."""
    tz = "Australia/Lord_Howe"
    spring = [label[11:16] for _, label in hours_of_day(date(2026, 10, 4), tz)]
    assert spring[:4] == ["00:00", "01:00", "02:30", "03:00"] and len(spring) == 24
    autumn = hours_of_day(date(2026, 4, 5), tz)
    assert [label[11:] for _, label in autumn[:3]] == ["00:00+11:00", "01:00+11:00", "02:00+10:30"]
    assert len(autumn) == 24  # 24.5 hours: 00:00, the 90-minute 01:00, and 02:00 .. 23:00


def test_chatham_quarter_hour_bucket_and_troll_two_hour_shift():
    assert [label[11:16] for _, label in hours_of_day(date(2026, 4, 5), "Pacific/Chatham")][2:6] == [
        "02:00", "03:00", "02:45", "03:00"]  # 03:45 -> 02:45: a 15-minute "02:45" bucket, then 03:00 again
    troll = hours_of_day(date(2026, 3, 29), "Antarctica/Troll")
    assert len(troll) == 22 and [label[11:16] for _, label in troll[:3]] == ["00:00", "03:00", "04:00"]


def test_a_day_that_starts_after_a_skipped_midnight_starts_at_one():
    hours = hours_of_day(date(2026, 3, 8), "America/Havana")  # 00:00 -> 01:00
    assert len(hours) == 23 and hours[0][1] == "2026-03-08T01:00-04:00"
    assert bucket(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), "America/Havana") == ("2026-03-08", hours[0][0])


def test_the_hour_after_st_johns_turned_back_past_midnight_belongs_to_the_day_it_began_in():
    """Until 2011 St. John's went 00:01 -> 23:01 of the day before: the repeated hour is in the day that
    had begun (its bounds), so no instant is outside its day's buckets."""
    tz = "America/St_Johns"
    at = datetime(2006, 10, 29, 2, 45, tzinfo=UTC)  # 23:15 on the 28th by the clock, after 00:01 on the 29th
    day, hour = bucket(at, tz)
    assert day == "2006-10-29" and hour in [h for h, _ in hours_of_day(date(2006, 10, 29), tz)]


#: One local day of each kind: 30-minute shifts (Lord Howe), 23 and 25 hours (Helsinki), a skipped and a
#: repeated midnight (Havana), a 15-minute bucket (Chatham), a 2-hour shift (Troll).
KINDS_OF_DAY = [("Australia/Lord_Howe", date(2026, 10, 4)), ("Australia/Lord_Howe", date(2026, 4, 5)),
                ("Europe/Helsinki", date(2026, 3, 29)), ("Europe/Helsinki", date(2026, 10, 25)),
                ("America/Havana", date(2026, 3, 8)), ("America/Havana", date(2026, 11, 1)),
                ("Pacific/Chatham", date(2026, 4, 5)), ("Antarctica/Troll", date(2026, 3, 29))]


def test_hourly_endpoint_dashboard_day_and_report_add_up_to_the_daily_n_on_every_kind_of_day(client, engine):
    """Issue 14.4 through the real path: presses every 15 minutes sent to a store in each zone, then the
    hourly endpoint, the dashboard's Day page figures and the daily report all give the day's N."""
    from server import admin, auth, results
    from server.reports import data as report_data

    user = auth.create_user(engine, "ada", "correct horse battery", "admin")
    h = {"Authorization": f"Bearer {auth.create_api_token(engine, user)}"}
    for i, (tz, day) in enumerate(KINDS_OF_DAY):
        sid = f"z{i}"
        admin.create_store(engine, tz, timezone=tz, store_id=sid)
        token = client.post("/api/v1/enroll", json={"code": admin.create_device(engine, sid).code}).json()["token"]
        sent = [press(1 + n % 4, at=at) for n, at in enumerate(_presses_every_15_min(day, tz))]
        r = client.post("/api/v1/responses", json={"events": sent}, headers={"Authorization": f"Bearer {token}"})
        assert [x["status"] for x in r.json()["results"]] == ["accepted"] * len(sent)
        q = {"from": day.isoformat(), "to": day.isoformat()}
        daily = client.get(f"/api/v1/stores/{sid}/daily", params=q, headers=h).json()["total"]["n"]
        hourly = client.get(f"/api/v1/stores/{sid}/hourly", params={"date": day.isoformat()}, headers=h).json()
        with engine.connect() as conn:
            page = results.by_local_hour(results.hour_buckets(conn, sid, tz, day))  # the Day page's figures
            report = report_data.daily(conn, sid, day)
        assert daily == len(sent), (tz, day)
        assert sum(x["n"] for x in hourly["hours"]) == hourly["total"]["n"] == daily, (tz, day)
        assert sum(f.n for f in page.values()) == daily, (tz, day)
        assert sum(sum(row.counts.values()) for row in report.rows) == sum(report.counts.values()) == daily, (tz, day)


def test_a_rollup_row_whose_hour_is_no_bucket_start_still_counts_in_the_hour_holding_it(client, world, engine):
    """The hourly results never drop a row whose ``hour_utc`` is not exactly one of the day's bucket
    starts (as a change of the bucketing rule could leave): it counts in the bucket holding it."""
    from sqlalchemy import update

    from server import admin
    from server import tables as t

    admin.create_store(engine, "Chatham", timezone="Pacific/Chatham", store_id="ch")
    token = client.post("/api/v1/enroll", json={"code": admin.create_device(engine, "ch").code}).json()["token"]
    at = datetime(2026, 9, 26, 14, 5, tzinfo=UTC)  # 03:50+13:45 on 2026-09-27, just after 02:45 -> 03:45
    client.post("/api/v1/responses", json={"events": [press(4, at=at)]}, headers={"Authorization": f"Bearer {token}"})
    hourly = client.get("/api/v1/stores/ch/hourly", params={"date": "2026-09-27"}, headers=world.user("admin")).json()
    assert [(x["hour"][11:], x["n"]) for x in hourly["hours"] if x["n"]] == [("03:45+13:45", 1)]
    with engine.begin() as conn:
        conn.execute(update(t.rollup_hourly).where(t.rollup_hourly.c.store_id == "ch").values(
            hour_utc="2026-09-26T14:05:00.000Z"))
    hourly = client.get("/api/v1/stores/ch/hourly", params={"date": "2026-09-27"}, headers=world.user("admin")).json()
    assert [(x["hour"][11:], x["n"]) for x in hourly["hours"] if x["n"]] == [("03:45+13:45", 1)]
    assert hourly["total"]["n"] == 1


def test_date_pattern_matches_exactly_the_dates_parse_day_takes():
    """The OpenAPI pattern of every date parameter against the parser: every day of 1899..2101 (leap years,
    1900 and 2100 are not) and texts Python alone would read as dates."""
    import re

    from server.localtime import DATE_PATTERN, FIRST_DAY, LAST_DAY, parse_day

    pattern = re.compile(DATE_PATTERN)

    def takes(text: str) -> bool:
        try:
            parse_day(text, "from")
        except ValueError as exc:
            assert str(exc).startswith("from: "), exc
            return False
        return True

    day, taken = date(1899, 1, 1), 0
    while day <= date(2101, 12, 31):
        text = day.isoformat()
        assert takes(text) is bool(pattern.fullmatch(text)) is (FIRST_DAY <= day <= LAST_DAY), text
        taken += takes(text)
        day += timedelta(days=1)
    assert taken == (LAST_DAY - FIRST_DAY).days + 1
    for text in ("0000-00-00", "0001-01-01", "9999-12-31", "2026-02-29", "1900-02-29", "2100-02-29", "2026-13-01",
                 "2026-04-31", "20261123", "2026-W48-1", "2026-11-23T00:00", " 2026-11-23", "2026-11-23\n",
                 "\u0662\u0660\u0662\u0666-11-23", ""):
        assert not takes(text) and not pattern.fullmatch(text), repr(text)
    assert takes("2000-02-29") and takes("2096-02-29")


def test_first_and_last_day_have_bounds_and_hours_in_every_zone():
    """No date the server takes can overflow: its bounds and the next day's exist in every IANA zone."""
    from zoneinfo import available_timezones

    from server.localtime import FIRST_DAY, LAST_DAY, day_bounds

    for tz in sorted(available_timezones()):
        for day in (FIRST_DAY, LAST_DAY):
            start, end = day_bounds(day, tz)
            assert start < end and len(hours_of_day(day, tz)) >= 23, (tz, day)
