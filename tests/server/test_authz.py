"""Authorisation matrix: every manager endpoint x every role x own / other store (or region): no leak."""

from __future__ import annotations

import pytest

from server import auth

from .conftest import press

DAY = "2026-11-23"
Q = {"from": DAY, "to": DAY}
STORE_ENDPOINTS = [
    ("/api/v1/stores/{s}/daily", Q),
    ("/api/v1/stores/{s}/hourly", {"date": DAY}),
    ("/api/v1/stores/{s}/followups", Q),
    ("/api/v1/export/responses.csv", {**Q, "store": "{s}"}),
    ("/api/v1/export/daily.csv", {**Q, "store": "{s}"}),
]
REGION_ENDPOINTS = [("/api/v1/regions/{r}/daily", Q), ("/api/v1/regions/{r}/followups", Q)]

# role -> (own store answer, other store answer) for results
RESULTS = {"admin": (200, 200), "regional": (200, 404), "manager": (200, 404), "technician": (403, 403)}
REGIONS = {"admin": (200, 200), "regional": (200, 404), "manager": (404, 404), "technician": (403, 403)}
FLEET = {"admin": (200, 200), "regional": (200, 404), "manager": (200, 404), "technician": (200, 404)}


def _fill(params: dict, **kw) -> dict:
    return {k: v.format(**kw) if isinstance(v, str) else v for k, v in params.items()}


@pytest.fixture
def filled(world, client):
    from datetime import UTC, datetime

    at = datetime(2026, 11, 23, 10, tzinfo=UTC)
    for sid in ("s1", "s2", "s3"):
        client.post("/api/v1/responses", json={"events": [press(1, at=at), press(4, at=at)]},
                    headers=world.device(sid))
    return world


@pytest.mark.parametrize("role", list(RESULTS))
def test_authz_matrix_store_results(client, filled, role):
    own, other = RESULTS[role]
    for path, params in STORE_ENDPOINTS:
        for sid, want in (("s1", own), ("s3", other), ("no-such-store", 404 if role != "technician" else 403)):
            r = client.get(path.format(s=sid), params=_fill(params, s=sid), headers=filled.user(role))
            assert r.status_code == want, (role, path, sid, r.status_code, r.text)
            if want != 200:
                assert "Store Three" not in r.text and '"n"' not in r.text and "mood" not in r.text
        r = client.get(path.format(s="s1"), params=_fill(params, s="s1"))
        assert r.status_code == 401


@pytest.mark.parametrize("role", list(REGIONS))
def test_authz_matrix_regions(client, filled, role):
    own, other = REGIONS[role]
    for path, params in REGION_ENDPOINTS:
        for rid, want in (("north", own), ("south", other)):
            r = client.get(path.format(r=rid), params=params, headers=filled.user(role))
            assert r.status_code == want, (role, path, rid, r.text)
    listed = {r["id"] for r in client.get("/api/v1/regions", headers=filled.user(role)).json()}
    assert listed == {"admin": {"north", "south"}, "regional": {"north"}}.get(role, set())


@pytest.mark.parametrize("role", list(FLEET))
def test_authz_matrix_fleet_and_store_list(client, filled, role):
    own, other = FLEET[role]
    assert client.get("/api/v1/fleet", params={"store": "s1"}, headers=filled.user(role)).status_code == own
    assert client.get("/api/v1/fleet", params={"store": "s3"}, headers=filled.user(role)).status_code == other
    stores_seen = {d["store_id"] for d in client.get("/api/v1/fleet", headers=filled.user(role)).json()}
    assert stores_seen == {"admin": {"s1", "s2", "s3"}, "regional": {"s1", "s2"}}.get(role, {"s1"})
    listed = {s["id"] for s in client.get("/api/v1/stores", headers=filled.user(role)).json()}
    assert listed == {"admin": {"s1", "s2", "s3"}, "regional": {"s1", "s2"}}.get(role, {"s1"})


def test_authz_region_results_sum_only_its_stores(client, filled):
    north = client.get("/api/v1/regions/north/daily", params=Q, headers=filled.user("regional")).json()
    assert north["total"]["n"] == 4  # s1 + s2, not s3


def test_authz_comment_delete_admin_only(client, filled):
    for role in ("regional", "manager", "technician"):
        assert client.delete("/api/v1/comments/x", headers=filled.user(role)).status_code == 403
    assert client.delete("/api/v1/comments/x", headers=filled.user("admin")).status_code == 404


def test_authz_session_cookie_login_regenerates_and_logout(client, filled, engine):
    body = {"username": "matti", "password": "correct horse battery"}
    assert client.post("/api/v1/session", json={**body, "password": "wrong"}).status_code == 401
    r1 = client.post("/api/v1/session", json=body)
    sid1 = r1.cookies.get("hymy_session")
    assert r1.status_code == 200 and sid1 and r1.json()["role"] == "store_manager"
    assert client.get("/api/v1/stores/s1/daily", params=Q).status_code == 200
    assert client.get("/api/v1/stores/s3/daily", params=Q).status_code == 404
    r2 = client.post("/api/v1/session", json=body)
    sid2 = r2.cookies.get("hymy_session")
    assert sid2 and sid2 != sid1
    assert auth.user_for_session(engine, sid1) is None  # the old id is gone after a new sign-in
    assert client.delete("/api/v1/session").status_code == 204
    assert auth.user_for_session(engine, sid2) is None
    client.cookies.clear()
    assert client.get("/api/v1/me").status_code == 401


def test_authz_revoked_api_token(client, filled, engine):
    token = filled.api_tokens["admin"]
    assert client.get("/api/v1/me", headers=filled.user("admin")).status_code == 200
    assert auth.revoke_api_token(engine, token)
    assert client.get("/api/v1/me", headers=filled.user("admin")).status_code == 401
