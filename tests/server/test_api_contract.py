"""The OpenAPI document and the behaviour agree (what schemathesis checks, stated here by hand too):
the Allow of a 405, strict types (no guessing a boolean from "yes"), the statuses each operation lists,
and the lengths the schema promises fit the database."""

from __future__ import annotations

import pytest

from server.localtime import DATE_PATTERN

from .conftest import press, with_alerts


@pytest.fixture
def settings(settings):
    return with_alerts(settings)


def operations(client) -> dict[str, dict]:
    return client.get("/openapi.json").json()["paths"]


def real(path: str) -> str:
    return (path.replace("{store_id}", "s1").replace("{region_id}", "north").replace("{alert_id}", "1")
            .replace("{followup_id}", "x"))


def test_405_allow_lists_every_method_the_path_answers(client, world):
    for path, item in operations(client).items():
        methods = {m.upper() for m in item}
        for wrong in {"GET", "POST", "PUT", "DELETE", "PATCH"} - methods:
            r = client.request(wrong, real(path), headers=world.user("admin"))
            assert r.status_code == 405, (wrong, path)
            assert set(r.headers["allow"].split(", ")) == methods, (wrong, path, r.headers["allow"])


def test_statuses_listed_are_the_ones_each_operation_can_answer(client):
    paths = operations(client)
    never_403 = [("get", "/api/v1/me"), ("get", "/api/v1/stores"), ("get", "/api/v1/regions"), ("get", "/api/v1/fleet"),
                 ("post", "/api/v1/responses"), ("post", "/api/v1/heartbeat"), ("get", "/api/v1/config"),
                 ("get", "/api/v1/alerts"), ("get", "/api/v1/alerts/{alert_id}"),
                 ("get", "/api/v1/stores/{store_id}/alert-rules")]
    for method, path in never_403:
        listed = paths[path][method]["responses"]
        assert "401" in listed and "403" not in listed, (method, path, sorted(listed))
    may_403 = [("get", "/api/v1/stores/{store_id}/daily"), ("get", "/api/v1/export/daily.csv"),
               ("delete", "/api/v1/comments/{followup_id}"), ("put", "/api/v1/stores/{store_id}/alert-rules")]
    for method, path in may_403:
        assert "403" in paths[path][method]["responses"], (method, path)
    for path, item in paths.items():
        for method, op in item.items():
            listed = op["responses"]
            if path.startswith("/api/"):
                assert "429" in listed, (method, path)
            if "requestBody" in op:
                assert "400" in listed and "422" in listed, (method, path)
            if method in ("post", "put", "patch"):
                assert {"411", "413"} <= set(listed), (method, path)
            for p in op.get("parameters", []):
                if p["name"] in ("from", "to", "date"):
                    assert p["schema"]["pattern"] == DATE_PATTERN, (path, p)


def rule(**kw) -> dict:
    return {"id": "unhappy", "kind": "negative_share", **kw}


@pytest.mark.parametrize("body", [
    [rule(local="yes")], [rule(local=1)], [rule(local="true")], [rule(window_min="15")], [rule(min_count=4.5)],
    [rule(threshold="50")], [rule(mood=True, kind="face_count")], [rule(kind="face_count")]])
def test_alert_rules_of_the_wrong_type_are_refused_not_guessed(client, world, body):
    r = client.put("/api/v1/stores/s1/alert-rules", json=body, headers=world.user("admin"))
    assert r.status_code == 422, r.text
    assert client.get("/api/v1/stores/s1/alert-rules", headers=world.user("admin")).json() == []


@pytest.mark.parametrize("change", [{"clock_synced": "true"}, {"clock_synced": 1}, {"pending": "3"}, {"uptime_ms": 1.5},
                                    {"cpu_temp_c": "48.3"}, {"disk_free_mb": True}, {"device_time": 0}])
def test_heartbeat_of_the_wrong_type_is_refused_not_guessed(client, world, change):
    hb = {"app_version": "1", "boot_id": "b", "uptime_ms": 1000, "device_time": "2026-11-23T10:00:00.000Z",
          "clock_synced": True, **change}
    r = client.post("/api/v1/heartbeat", json=hb, headers=world.device("s1"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", next(iter(change))], r.text


def test_events_of_the_wrong_type_are_rejected_naming_the_field(client, world):
    bad = [press(mood="4"), press(clock_synced="yes"), press(uptime_ms="1000"), press(pressed_at=1795000000),
           press(flags=["repeat"], clock_corrected=0)]
    r = client.post("/api/v1/responses", json={"events": [*bad, press(uptime_ms=1000.0)]}, headers=world.device("s1"))
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected"] * 5 + ["accepted"], results
    for x, field in zip(results, ("mood", "clock_synced", "uptime_ms", "pressed_at", "clock_corrected"), strict=False):
        assert x["reason"].startswith(f"invalid event: {field}: "), x


def test_alert_channels_booleans_and_addresses_are_strict(client, world):
    h = world.user("admin")
    for body in ({"daily_report": "yes"}, {"weekly_report": 1}, {"email_to": [" boss@shop.example"]},
                 {"email_to": ["boss@shop.example\n"]}, {"email_to": ["bo\x1css@shop.example"]}):
        assert client.put("/api/v1/stores/s1/alert-channels", json=body, headers=h).status_code == 422, body
    ok = client.put("/api/v1/stores/s1/alert-channels", json={"email_to": ["boss@shop.example"]}, headers=h)
    assert ok.status_code == 200 and ok.json()["email_to"] == ["boss@shop.example"]


def test_alert_rule_ids_as_long_as_the_schema_allows_are_stored(client, world):
    """The schema allows 200 characters; the database key is "<store id>:<rule id>" (PostgreSQL refused
    anything past 64 characters in all with a 500)."""
    long_id = "r" * 200
    r = client.put("/api/v1/stores/s1/alert-rules", json=[rule(id=long_id)], headers=world.user("admin"))
    assert r.status_code == 200 and r.json()[0]["id"] == long_id, r.text
    assert client.get("/api/v1/config", headers=world.device("s1")).json()["alert_rules"][0]["id"] == long_id


def test_repeated_alert_rule_id_is_refused_naming_it(client, world):
    r = client.put("/api/v1/stores/s1/alert-rules", json=[rule(), rule(id="other"), rule()], headers=world.user("admin"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", 2, "id"]
    assert r.json()["detail"][0]["msg"].startswith("2.id: 'unhappy' is used by an earlier rule")


@pytest.mark.parametrize("clock", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z"])
def test_heartbeat_with_a_clock_outside_what_the_server_stores_is_kept_without_it(client, world, clock):
    """A device clock in year 1 or 9999 (which may not even exist in UTC) is schema-valid: the heartbeat's
    fleet state is stored, its device time is not (it was a 500)."""
    hb = {"app_version": "1", "boot_id": "b", "uptime_ms": 1000, "device_time": clock, "clock_synced": True,
          "pending": 7}
    assert client.post("/api/v1/heartbeat", json=hb, headers=world.device("s1")).status_code == 200
    fleet = client.get("/api/v1/fleet", params={"store": "s1"}, headers=world.user("admin")).json()
    assert fleet[0]["pending"] == 7 and fleet[0]["last_seen_at"] is not None
