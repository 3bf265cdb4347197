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
