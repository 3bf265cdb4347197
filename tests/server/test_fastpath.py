"""The device API's hot path (server.fastpath): it serves responses, heartbeat and config without FastAPI's
dependency solving, and answers every request exactly as the documented FastAPI operations do."""

from __future__ import annotations

import gzip
import json

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from server.app import create_app
from server.deps import current_device
from server.fastpath import DevicePath

from .conftest import World, press
from .test_device_api import hb


def _refuse():
    raise HTTPException(418, "FastAPI's dependency ran")


def test_device_requests_are_served_without_fastapi_dependencies(app, client, world):
    app.dependency_overrides[current_device] = _refuse  # what the FastAPI operations would call
    auth = world.device("s1")
    r = client.post("/api/v1/responses", json={"events": [press()]}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "accepted"
    r = client.post("/api/v1/heartbeat", json=hb(), headers=auth)
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/config", headers=auth)
    assert r.status_code == 200 and r.headers["etag"], r.text
    metrics = client.get("/metrics").text
    for route in ("/api/v1/responses", "/api/v1/heartbeat", "/api/v1/config"):  # counted under their template
        assert f'route="{route}"' in metrics
    # what the fast path declines still goes to the documented operation
    r = client.post("/api/v1/heartbeat", content=json.dumps(hb()), headers={**auth, "Content-Type": "text/plain"})
    assert r.status_code == 418


def _cases(world: World, etag: str) -> list[tuple[str, str, dict, bytes | None]]:
    """(method, path, headers, body) of requests both paths must answer alike."""
    auth = world.device("s1")
    js = {**auth, "Content-Type": "application/json"}
    batch = json.dumps({"events": [press()]}).encode()
    return [
        ("POST", "/api/v1/responses", {"Content-Type": "application/json"}, batch),
        ("POST", "/api/v1/responses", {"Authorization": "Basic abc", "Content-Type": "application/json"}, batch),
        ("POST", "/api/v1/responses", {"Authorization": "Bearer nope", "Content-Type": "application/json"}, batch),
        ("POST", "/api/v1/responses", js, b"{not json"),
        ("POST", "/api/v1/responses", js, b"[1, 2]"),
        ("POST", "/api/v1/responses", js, b'{"events": [], "more": 1}'),
        ("POST", "/api/v1/responses", js, b'{"events": 3}'),
        ("POST", "/api/v1/responses", js, b"[" * 200 + b"]" * 200),
        ("POST", "/api/v1/responses", {**js, "Content-Encoding": "gzip"}, b"not gzip"),
        ("POST", "/api/v1/responses", {**js, "Content-Encoding": "br"}, batch),
        ("POST", "/api/v1/responses", js, json.dumps({"events": [press()] * 3}).encode()),  # > max_batch_events
        ("POST", "/api/v1/responses", js, json.dumps({"events": [{"kind": "response", "mood": 9}]}).encode()),
        ("POST", "/api/v1/heartbeat", {"Content-Type": "application/json"}, json.dumps(hb()).encode()),
        ("POST", "/api/v1/heartbeat", js, json.dumps(hb(pending="many", uptime_ms=-1)).encode()),
        ("POST", "/api/v1/heartbeat", js, json.dumps({**hb(), "extra": 1}).encode()),
        ("POST", "/api/v1/heartbeat", js, b"{not json"),
        ("POST", "/api/v1/heartbeat", js, json.dumps(hb(last_error="a\x00b")).encode()),
        ("POST", "/api/v1/heartbeat", {"Authorization": "Bearer nope", "Content-Type": "application/json"},
         json.dumps(hb()).encode()),
        ("POST", "/api/v1/heartbeat", {"Authorization": "Bearer nope", "Content-Type": "application/json"},
         json.dumps({**hb(), "extra": 1}).encode()),  # the token's 401 before the body's 422
        ("GET", "/api/v1/config", {}, None),
        ("GET", "/api/v1/config", {"Authorization": "Bearer nope"}, None),
        ("GET", "/api/v1/config", auth, None),
        ("GET", "/api/v1/config", {**auth, "If-None-Match": etag}, None),
        ("GET", "/api/v1/config", {**auth, "If-None-Match": f"W/{etag}, \"other\""}, None),
        ("GET", "/api/v1/config", {**auth, "If-None-Match": "*"}, None),
        ("GET", "/api/v1/config", {**auth, "If-None-Match": "garbage"}, None),
    ]


_SHOWN = ("content-type", "www-authenticate", "retry-after", "etag", "cache-control", "content-length")


def _seen(r) -> tuple:
    body = r.content
    if r.headers.get("content-type") == "application/json" and body:
        value = r.json()
        if isinstance(value, dict):
            value.pop("server_time", None)  # the moment it answered
            for res in value.get("results", []) if isinstance(value.get("results"), list) else []:
                res.pop("id", None)
        body = value
    return r.status_code, body, {k: r.headers.get(k) for k in _SHOWN if k != "content-length" or r.status_code != 200}


def test_the_fast_path_answers_as_the_documented_operations(settings):
    settings = settings.with_(max_batch_events=2)
    fast = create_app(settings)
    plain = create_app(settings.with_(migrate=False), engine=fast.state.engine)
    plain.user_middleware = [m for m in plain.user_middleware if m.cls is not DevicePath]
    with TestClient(fast) as a, TestClient(plain) as b:
        world = World(fast.state.engine, a)
        etag = a.get("/api/v1/config", headers=world.device("s1")).headers["etag"]
        for method, path, headers, body in _cases(world, etag):
            ra = a.request(method, path, headers=headers, content=body)
            if path == "/api/v1/responses" and ra.status_code == 200:  # new ids for the other path's batch
                body = json.dumps({"events": [{**e, "id": press()["id"]} if "id" in e else e
                                              for e in json.loads(body)["events"]]}).encode()
            rb = b.request(method, path, headers=headers, content=body)
            assert _seen(ra) == _seen(rb), (method, path, headers, body)
    fast.state.engine.dispose()


@pytest.mark.parametrize("gz", [False, True])
def test_a_batch_sent_twice_is_a_duplicate_on_the_fast_path(client, world, gz):
    body = json.dumps({"events": [press(), press(mood=1)]}).encode()
    headers = {**world.device("s2"), "Content-Type": "application/json"}
    if gz:
        body, headers = gzip.compress(body), {**headers, "Content-Encoding": "gzip"}
    first = client.post("/api/v1/responses", content=body, headers=headers)
    again = client.post("/api/v1/responses", content=body, headers=headers)
    assert [x["status"] for x in first.json()["results"]] == ["accepted", "accepted"]
    assert [x["status"] for x in again.json()["results"]] == ["duplicate", "duplicate"]
