"""The full app (dashboard + alerts installed by create_app) still serves the device API and its hooks."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.app import create_app

from .conftest import World, press


def test_components_installed_and_device_api_unaffected(settings):
    app = create_app(settings.with_(components=("dashboard", "alerts")))
    try:
        with TestClient(app) as client:
            world = World(app.state.engine, client)
            assert app.state.on_ingested, "alerts registered no post-ingest hook"
            r = client.post("/api/v1/responses", json={"events": [press(1), press(4)]}, headers=world.device("s1"))
            assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted"]
            assert client.get("/login").status_code == 200
            assert client.get("/openapi.json").status_code == 200
    finally:
        app.state.engine.dispose()
