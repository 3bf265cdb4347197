"""``HYMY_ACCESS_LOG``: a real ``hymy server`` process writes uvicorn's access lines for what an operator reads
(the dashboard, failures) and, by default, not for a fleet's answered batches, heartbeats and config pulls."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from hymy.errors import ConfigError
from server import admin
from server.accesslog import QuietFleet
from server.db import make_engine
from server.migrate import upgrade
from server.settings import Settings
from server.testing import server_process
from tests.server.conftest import press

pytestmark = pytest.mark.slow


def _traffic(tmp_path, mode: str | None) -> str:
    """The server's log after a batch, a config pull, a request with a bad token and a sign-in page."""
    url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = make_engine(url)
    upgrade(engine)
    store = admin.create_store(engine, "Kamppi")
    _, token, _ = admin.enroll(engine, admin.create_device(engine, store, "exit").code, app_version="t")
    engine.dispose()
    env = {"HYMY_ACCESS_LOG": mode} if mode else {}
    log = tmp_path / "server.log"
    with server_process(url, env, log=log) as running:
        h = {"Authorization": f"Bearer {token}"}
        assert httpx.post(running.base_url + "/api/v1/responses", json={"events": [press()]}, headers=h).status_code == 200
        assert httpx.get(running.base_url + "/api/v1/config", headers=h).status_code == 200
        assert httpx.get(running.base_url + "/api/v1/config", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert httpx.get(running.base_url + "/login").status_code == 200
        time.sleep(0.3)  # the lines are written as the answers go out
    return log.read_text()


def test_quiet_by_default_leaves_out_only_the_fleets_answered_requests(tmp_path):
    text = _traffic(tmp_path, None)
    assert '"GET /login HTTP/1.1" 200' in text
    assert '"GET /api/v1/config HTTP/1.1" 401' in text
    assert "POST /api/v1/responses" not in text
    assert '"GET /api/v1/config HTTP/1.1" 200' not in text


def test_all_writes_every_request_and_off_none(tmp_path):
    every = _traffic(tmp_path / "all", "all")
    assert '"POST /api/v1/responses HTTP/1.1" 200' in every and '"GET /api/v1/config HTTP/1.1" 200' in every
    none = _traffic(tmp_path / "off", "off")
    assert "HTTP/1.1" not in none


def test_the_filter_keeps_failures_and_other_paths():
    keep = QuietFleet().filter

    def record(method, path, status):
        return logging.LogRecord("uvicorn.access", 20, "", 0, '%s - "%s %s HTTP/%s" %d',
                                 ("1.2.3.4:5", method, path, "1.1", status), None)

    assert not keep(record("POST", "/api/v1/heartbeat", 200))
    assert not keep(record("GET", "/api/v1/config?x=1", 304))
    assert keep(record("POST", "/api/v1/responses", 429))
    assert keep(record("POST", "/api/v1/enroll", 200))
    assert keep(record("GET", "/api/v1/stores", 200))


def test_a_bad_value_names_the_variable_and_the_choices():
    with pytest.raises(ConfigError, match="HYMY_ACCESS_LOG.*quiet, all or off"):
        Settings.from_env({"HYMY_ACCESS_LOG": "verbose"})
