"""Rate limits with 429 + Retry-After, body limits, health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from server import tables as t
from server.app import create_app
from server.testing import clear_of_minute_end

from .conftest import World, press, stored_responses
from .test_device_api import hb


def test_device_rate_limit_429_with_retry_after(settings):
    app = create_app(settings.with_(device_rate_per_min=5))
    clear_of_minute_end()  # the limit counts per wall-clock minute (server.ratelimit)
    with TestClient(app) as client:
        world = World(app.state.engine, client)
        codes = [client.get("/api/v1/config", headers=world.device("s1")).status_code for _ in range(7)]
        assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
        r = client.get("/api/v1/config", headers=world.device("s1"))
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert client.get("/api/v1/config", headers=world.device("s2")).status_code == 200  # another device
    app.state.engine.dispose()


def test_ip_rate_limit_429(settings):
    app = create_app(settings.with_(ip_rate_per_min=3))
    clear_of_minute_end()
    with TestClient(app) as client:
        codes = [client.get("/api/v1/stores").status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        assert client.get("/healthz").status_code == 200  # health is never limited
    app.state.engine.dispose()


def test_enrolment_rate_limit_is_a_setting(settings):
    from server.settings import Settings

    assert Settings.from_env({"HYMY_ENROLL_RATE": "4"}).enroll_rate_per_min == 4
    app = create_app(settings.with_(enroll_rate_per_min=2))
    with TestClient(app) as client:
        codes = [client.post("/api/v1/enroll", json={"code": "WRONG-CODE-XX"}).status_code for _ in range(4)]
        assert codes == [404, 404, 429, 429]
    app.state.engine.dispose()


def test_health_ready_and_metrics(client, world):
    assert client.get("/healthz").text == "ok"
    assert client.get("/readyz").status_code == 200
    client.post("/api/v1/responses", json={"events": [press(), {"type": "response", "id": "x"}]},
                headers=world.device("s1"))
    text = client.get("/metrics").text
    assert 'hymy_ingest_events_total{status="accepted"} 1.0' in text
    assert 'hymy_ingest_events_total{status="rejected"} 1.0' in text
    assert "hymy_ingest_rejected_events_total{device=" in text
    assert "hymy_device_last_seen_timestamp_seconds{device=" in text
    assert 'hymy_http_requests_total{method="POST",route="/api/v1/responses",status="200"}' in text


def test_readyz_503_when_database_unreachable(tmp_path):
    from server.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'gone' / 'x.db'}"))
    import shutil

    app.state.engine.dispose()
    shutil.rmtree(tmp_path / "gone")
    (tmp_path / "gone").write_text("not a directory")  # the database path can no longer open
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200


def test_body_limit_on_other_endpoints(client, world):
    r = client.post("/api/v1/heartbeat", content=b"x" * (300 * 1024), headers=world.device("s1"))
    assert r.status_code == 413


def test_a_refused_device_request_stores_nothing(settings):
    """A revoked token or a device past its limit is answered 401 / 429 before anything about the body, and its
    batch is not stored (on PostgreSQL the token is checked on the thread that would store it)."""
    from server import admin

    app = create_app(settings.with_(device_rate_per_min=2))
    clear_of_minute_end()

    with TestClient(app) as client:
        world = World(app.state.engine, client)
        h = world.device("s1")
        sent = [client.post("/api/v1/responses", json={"events": [press()]}, headers=h) for _ in range(3)]
        assert [r.status_code for r in sent] == [200, 200, 429]
        assert stored_responses(app.state.engine) == 2
        assert client.post("/api/v1/responses", json={"events": "no"}, headers=h).status_code == 429  # not 422
        other = world.device("s2")
        device_id = next(d["id"] for d in admin.listing(app.state.engine)["devices"] if d["store_id"] == "s2")
        admin.revoke_device(app.state.engine, device_id)
        assert client.post("/api/v1/responses", json={"events": [press()]}, headers=other).status_code == 401
        assert client.post("/api/v1/responses", content=b"{not json", headers=other).status_code == 401
        assert client.post("/api/v1/responses", json={"events": [press()]}).status_code == 401  # no token at all
        assert stored_responses(app.state.engine) == 2
        # a heartbeat and a config pull of the revoked device: refused, and its fleet state left as it was
        assert client.post("/api/v1/heartbeat", json=hb(pending=77), headers=other).status_code == 401
        assert client.get("/api/v1/config", headers=other).status_code == 401
        with app.state.engine.connect() as conn:
            assert conn.execute(select(t.devices.c.pending).where(t.devices.c.id == device_id)).scalar_one() is None
    app.state.engine.dispose()
