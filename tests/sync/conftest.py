"""Fixtures of the sync tests: a REAL central server (Uvicorn on a free loopback port, SQLite file).

``live_server`` is one server per test module; ``ServerHandle.new_device()`` creates a fresh store and
device on it (so tests never see each other's rows) and ``ids(device_id)`` reads what the server stored.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select, union_all


@dataclass
class ServerHandle:
    url: str
    settings: object
    engine: object
    db_path: Path
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def new_device(self, name: str = "test") -> tuple[str, str]:
        """A new store with one device: (device_id, one-time enrolment code)."""
        from server import admin

        store_id = admin.create_store(self.engine, f"Store {name}")
        dev = admin.create_device(self.engine, store_id, name)
        return dev.device_id, dev.code

    def ids(self, device_id: str) -> list[str]:
        """Every event id the server stored for ``device_id`` (responses and follow-ups; repeats kept)."""
        from server import tables as t

        q = union_all(select(t.responses.c.id).where(t.responses.c.device_id == device_id),
                      select(t.followups.c.id).where(t.followups.c.device_id == device_id))
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(q)]


def server_settings(db_path: Path, **overrides):
    from server.settings import Settings

    # no rate limits unless asked: the tests drain backlogs as fast as the server takes them
    values = {"device_rate_per_min": 0, "ip_rate_per_min": 0, "secure_cookies": False, **overrides}
    return Settings(database_url=f"sqlite:///{db_path}", **values)


@contextlib.contextmanager
def start_server(db_path: Path, **overrides):
    """A real server on a free loopback port (``overrides``: server Settings fields); yields a ServerHandle."""
    from server.app import create_app
    from server.db import make_engine
    from server.ratelimit import RateLimiter
    from server.testing import run_server

    settings = server_settings(db_path, **overrides)
    engine = make_engine(settings.database_url)
    app = create_app(settings)
    # the server allows 10 enrolments per minute per address (brute-force guard); these tests enrol
    # a fresh device per test or example from 127.0.0.1, so lift it here
    app.state.enroll_limiter = RateLimiter(0)
    try:
        with run_server(settings, app=app) as url:
            yield ServerHandle(url.rstrip("/"), settings, engine, db_path)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with start_server(tmp_path_factory.mktemp("server") / "server.db") as handle:
        yield handle
