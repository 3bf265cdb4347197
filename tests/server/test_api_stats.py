"""The manager API returns each index's 95 % interval and its verdict against the usual beside it
(additive fields, issue 15), on SQLite and PostgreSQL, through the real HTTP routes: presses posted by a
device, figures read with a manager's API token.

The story: eight steady Tuesdays 14-17, then a Tuesday whose 15-16 went wrong.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.dashboard.usual_data import BAD, STEADY, hour_presses

from .conftest import today_local

TUESDAY = date(2026, 11, 24)


@pytest.fixture
def story(client, world):
    events = []
    for week in range(1, 9):
        events += [e for h in (14, 15, 16) for e in hour_presses(TUESDAY - timedelta(weeks=week), h, STEADY)]
    events += [e for h in (14, 16) for e in hour_presses(TUESDAY, h, STEADY)] + hour_presses(TUESDAY, 15, BAD)
    for i in range(0, len(events), 500):
        r = client.post("/api/v1/responses", content=json.dumps({"events": events[i:i + 500]}),
                        headers={**world.device("s1"), "Content-Type": "application/json"})
        assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"accepted"}, r.text
    return world


def get(client, world, path, **params):
    r = client.get(path, params=params, headers=world.user("regional"))
    assert r.status_code == 200, r.text
    return r.json()


def test_daily_gives_each_day_its_interval_and_verdict_against_the_same_weekday(client, story):
    got = get(client, story, "/api/v1/stores/s1/daily", **{"from": str(TUESDAY - timedelta(weeks=1)),
                                                           "to": str(TUESDAY)})
    days = {d["date"]: d for d in got["days"]}
    bad = days[str(TUESDAY)]
    assert bad["n"] == 90 and bad["index"] == 62 and bad["level"] == 0.95
    low, high = bad["interval"]
    assert low < 62 < high and high - low < 25
    assert bad["verdict"] == "lower" and bad["baseline"] == {"n": 720, "index": 80}
    assert 0 <= bad["p"] <= bad["q"] <= 0.05
    steady = days[str(TUESDAY - timedelta(weeks=1))]
    assert steady["verdict"] == "usual" and steady["q"] > 0.05  # the same weekday of its own 7 weeks before
    quiet = days[str(TUESDAY - timedelta(days=1))]  # a Monday without presses: nothing to compare
    assert quiet["verdict"] == "too_few" and quiet["interval"] == [0, 100] and quiet["index"] is None
    total = got["total"]  # a period's total is described, not compared
    assert total["verdict"] is None and total["baseline"] is None and total["interval"][0] <= total["index"]


def test_today_is_not_judged_before_it_is_over(client, story):
    day = today_local()
    got = get(client, story, "/api/v1/stores/s1/daily", **{"from": day, "to": day})
    assert got["days"][0]["verdict"] is None and got["days"][0]["p"] is None


def test_hourly_judges_each_hour_against_the_same_hour_of_the_usual_days(client, story):
    got = get(client, story, "/api/v1/stores/s1/hourly", date=str(TUESDAY))
    hours = {h["hour"][11:16]: h for h in got["hours"]}
    assert hours["15:00"]["verdict"] == "lower" and hours["15:00"]["index"] == 26
    assert hours["15:00"]["baseline"] == {"n": 240, "index": 80} and hours["15:00"]["q"] <= 0.05
    assert hours["14:00"]["verdict"] == hours["16:00"]["verdict"] == "usual"
    assert hours["09:00"]["verdict"] == "too_few" and hours["09:00"]["p"] is None
    assert got["total"]["n"] == 90 and got["total"]["verdict"] is None


def test_region_days_are_judged_like_a_stores(client, story):
    got = get(client, story, "/api/v1/regions/north/daily", **{"from": str(TUESDAY), "to": str(TUESDAY)})
    day = got["days"][0]
    assert day["n"] == 90 and day["verdict"] == "lower" and day["baseline"]["n"] == 720
    assert day["interval"][0] < day["index"] < day["interval"][1]


def test_openapi_documents_the_interval_and_the_verdict(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    props = schema["Figures"]["properties"]
    assert {"interval", "level", "verdict", "p", "q", "baseline"} <= set(props)
    verdicts = next(x for x in props["verdict"]["anyOf"] if x.get("type") == "string")["enum"]
    assert verdicts == ["lower", "higher", "usual", "too_few"]
    assert "Benjamini-Hochberg" in props["verdict"]["description"]
    assert set(schema["Baseline"]["properties"]) == {"n", "index"}
