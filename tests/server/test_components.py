"""The full app (dashboard + alerts installed by create_app) still serves the device API and its hooks; a
component that cannot load stops the start-up with a message naming the package and the extra."""

from __future__ import annotations

import os
import sys

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.testing import free_port
from tests import procs

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


#: ``hymy`` with one module made unimportable (what an install without its package looks like to Python).
WITHOUT = "import sys; sys.modules[sys.argv.pop(1)] = None; from hymy.cli import main; main()"


@pytest.mark.parametrize(("module", "says"), [
    # babel: the alerts' and the dashboard's languages; the server extra once lacked it
    ("babel", "the server's alerts cannot start: the package 'babel' is not installed; "
              "install the server extra: pip install 'hymy[server]'"),
    ("server.dashboard.routes", "the server's dashboard cannot start: the module 'server.dashboard.routes' is "
                                "missing"),
    ("uvicorn", "`hymy server` cannot start: the package 'uvicorn' is not installed; "
                "install the server extra: pip install 'hymy[server]'"),
])
def test_a_component_that_cannot_load_stops_the_start_up(tmp_path, module: str, says: str) -> None:
    """Never half an app: the server does not start without a part it was asked for (no /login 404)."""
    env = {**os.environ, "HYMY_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}"}
    done = procs.run([sys.executable, "-c", WITHOUT, module, "server", "--host", "127.0.0.1",
                      "--port", str(free_port())], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"hymy: {says}"), line
