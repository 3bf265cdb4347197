"""JSON from clients: one reader (server.jsontext) for every body the server parses. Deep nesting is a 400
naming the body, everywhere; what is not JSON is a 422 naming the body; a NUL character is a 422 naming
the field; depth 900 still works."""

from __future__ import annotations

import gzip
import json

import pytest

from hymy.errors import JsonError
from server.jsontext import MAX_DEPTH, depth, field_name, nul_path, parse_json

from .conftest import press, with_alerts


@pytest.fixture
def settings(settings):
    """The server with its alerts API too, so 'every operation' includes the alert rules and channels."""
    return with_alerts(settings)


def body_operations(client) -> list[tuple[str, str]]:
    """(method, path with real ids) of every operation whose OpenAPI entry has a request body."""
    paths = client.get("/openapi.json").json()["paths"]
    out = [(m.upper(), p.replace("{store_id}", "s1").replace("{alert_id}", "1"))
           for p, item in paths.items() for m, op in item.items() if "requestBody" in op]
    assert len(out) >= 8, out  # enroll, responses, heartbeat, session, acknowledge, comments, channels, rules
    return out


def nested(levels: int) -> bytes:
    return b'{"events":' + b"[" * levels + b"]" * levels + b"}"


def send(client, world, method: str, path: str, body: bytes, **headers):
    auth = world.device("s1") if path.startswith(("/api/v1/responses", "/api/v1/heartbeat")) else world.user("admin")
    return client.request(method, path, content=body, headers={**auth, "Content-Type": "application/json", **headers})


def test_nesting_over_the_limit_is_a_400_naming_the_body_on_every_json_operation(client, world):
    for levels in (1000, 100_000):  # just past Python's recursion limit, and far past any interpreter's
        for method, path in body_operations(client):
            r = send(client, world, method, path, nested(levels))
            assert r.status_code == 400, (method, path, levels, r.text)
            assert r.json()["detail"].startswith("body: JSON nested more than 900 levels deep"), r.text
    r = send(client, world, "POST", "/api/v1/responses", gzip.compress(nested(1000)), **{"Content-Encoding": "gzip"})
    assert r.status_code == 400 and r.json()["detail"].startswith("body: JSON nested"), r.text


def test_nesting_of_900_keeps_working(client, world):
    r = send(client, world, "POST", "/api/v1/responses", nested(900))
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "rejected"
    r = send(client, world, "POST", "/api/v1/responses", gzip.compress(nested(900)), **{"Content-Encoding": "gzip"})
    assert r.status_code == 200
    r = send(client, world, "POST", "/api/v1/heartbeat", b'{"x":' + b"[" * 900 + b"]" * 900 + b"}")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:1] == ["body"]


def test_parse_json_depth_limit_is_exact():
    at_limit = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)  # the top-level array and 900 inside it
    assert depth(parse_json(at_limit)) == MAX_DEPTH + 1
    with pytest.raises(JsonError) as err:
        parse_json("[" + at_limit + "]", "store.json")
    assert err.value.too_deep and str(err.value).startswith("store.json: JSON nested more than 900")
    assert depth({"a": [1, {"b": []}], "c": 2}) == 4 and depth(5) == 0


@pytest.mark.parametrize("body, words", [
    (b"\xff\xfe{", "not UTF-8"), (b'{"x": NaN}', "NaN is not a JSON number"), (b"[1e400]", "beyond what a double"),
    (b"[" + b"1" * 5000 + b"]", "more digits"), (b'{"x": ', "invalid JSON")])
def test_unreadable_json_is_a_422_naming_the_body_on_every_json_operation(client, world, body, words):
    for method, path in body_operations(client):
        r = send(client, world, method, path, body)
        assert r.status_code == 422, (method, path, r.text)
        err = r.json()["detail"][0]
        assert err["loc"] == ["body"] and err["msg"].startswith("body: ") and words in err["msg"], r.text


def test_a_whole_number_written_with_a_fraction_is_an_integer(client, world):
    hb = {"app_version": "1", "boot_id": "b", "uptime_ms": 1000.0, "device_time": "2026-11-23T10:00:00.000Z",
          "clock_synced": True, "pending": 3.0, "cpu_temp_c": 48.5}
    assert client.post("/api/v1/heartbeat", headers=world.device("s1"), json=hb).status_code == 200
    fleet = client.get("/api/v1/fleet", params={"store": "s1"}, headers=world.user("admin")).json()
    assert fleet[0]["pending"] == 3 and fleet[0]["cpu_temp_c"] == 48.5


def test_nul_in_any_json_body_is_refused_naming_the_field(client, world):
    for method, path in body_operations(client):
        if path == "/api/v1/responses":
            continue  # a batch answers event by event: the next test
        body = [{"id": "a\x00b"}] if path.endswith("alert-rules") else {"note": ["x", "a\x00b"]}
        r = send(client, world, method, path, json.dumps(body).encode())
        assert r.status_code == 422, (method, path, r.text)
        err = r.json()["detail"][0]
        want = ["body", 0, "id"] if path.endswith("alert-rules") else ["body", "note", 1]
        assert err["loc"] == want and err["type"] == "string_nul", r.text
        assert err["msg"] == f"{field_name(want[1:])}: must not contain a NUL character", r.text
    r = client.post("/api/v1/heartbeat", headers=world.device("s1"), json={
        "app_version": "1", "boot_id": "\x00", "uptime_ms": 1, "device_time": "2026-11-23T10:00:00Z",
        "clock_synced": True})
    assert r.json()["detail"][0]["msg"] == "boot_id: must not contain a NUL character"


def test_nul_in_one_event_rejects_that_event_naming_its_field(client, world):
    r = client.post("/api/v1/responses", headers=world.device("s1"),
                    json={"events": [press(boot_id="a\x00b"), press(), press(**{"x\x00": 1})]})
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected", "accepted", "rejected"]
    assert results[0]["reason"] == "invalid event: boot_id: must not contain a NUL character"
    assert results[2]["reason"] == "invalid event: x\\u0000: must not contain a NUL character"


def test_nul_in_a_query_parameter_names_it(client, world):
    r = client.get("/api/v1/fleet", params={"store": "s\x00"}, headers=world.user("admin"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "store"]
    assert r.json()["detail"][0]["msg"] == "store: must not contain a NUL character"


def test_nul_path_finds_the_first_nul_in_document_order():
    assert nul_path({"a": "ok", "b": ["x", {"c": "y\x00"}], "d": "\x00"}) == ["b", 1, "c"]
    assert nul_path(["fine", 1, None, {"k": True}]) is None
    assert nul_path("\x00") == [] and field_name([], "event") == "event"
    deep = "\x00"
    for _ in range(5000):  # deeper than Python's recursion: the walk keeps its own stack
        deep = [deep]
    assert len(nul_path(deep)) == 5000
