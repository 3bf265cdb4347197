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
