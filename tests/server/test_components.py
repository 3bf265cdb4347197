"""The full app (dashboard + alerts installed by create_app) still serves the device API and its hooks, its
lifespan runs its periodic jobs, and a component that cannot load stops the start-up with a message naming
the package and the extra."""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server import tables as t
from server.app import create_app
from server.settings import SmtpSettings
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


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.is_alive()}


def test_the_apps_lifespan_runs_its_periodic_jobs_and_stops_them(settings, client, world, engine):
    """Issue 17: pruning (HYMY_RETENTION_DAYS), the alert sweep and the report scheduler are periodic jobs
    of the app, started by its lifespan and stopped when it ends: ``TestClient(app)`` runs them. Pruning
    used to start only in ``hymy server``, outside the app's lifespan."""
    old = press(4, at=datetime.now(UTC) - timedelta(days=400))
    client.post("/api/v1/responses", json={"events": [old, press(4)]}, headers=world.device("s1"))
    app = create_app(settings.with_(retention_days=365, components=("alerts",),
                                    smtp=SmtpSettings(host="127.0.0.1", port=1, sender="hymy@shop.example")))
    jobs = app.state.jobs
    names = {"hymy-prune", "hymy-alert-sweep", "hymy-reports"}
    assert sorted(j.name for j in jobs) == ["alert-sweep", "prune", "reports"]
    assert not any(j.running for j in jobs)  # nothing runs before the app does
    try:
        with TestClient(app):
            assert all(j.running for j in jobs) and names <= _threads()
            deadline = time.monotonic() + 30  # a safety net only
            while jobs["prune"].runs < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert jobs["prune"].runs == 1 and jobs["prune"].last_error is None  # at start, then every 6 h
        assert not any(j.running for j in jobs) and not names & _threads()
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.responses)).scalar() == 1  # the old one went
    finally:
        app.state.engine.dispose()


def test_apps_built_without_background_jobs_run_none(settings):
    app = create_app(settings.with_(retention_days=30, components=("alerts",), background_jobs=False))
    try:
        with TestClient(app):
            assert len(app.state.jobs) == 2 and not any(j.running for j in app.state.jobs)
    finally:
        app.state.engine.dispose()
