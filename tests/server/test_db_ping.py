"""PostgreSQL connections are checked before use only after sitting idle (``server.db.PING_IDLE_S``): a pooled
connection the database dropped while it was idle is replaced without the request seeing it."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from server import db
from server.db import make_engine, read_row
from tests.conftest import need

pytestmark = pytest.mark.postgres


def _url() -> str:
    url = os.environ.get("HYMY_TEST_POSTGRES_URL", "")
    need("postgres", bool(url), "set HYMY_TEST_POSTGRES_URL=postgresql+psycopg://user:pw@127.0.0.1/db")
    return url


def _terminate(url: str, pid: int) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    admin.dispose()


def test_an_idle_connection_the_database_dropped_is_replaced(monkeypatch):
    url = _url()
    engine = make_engine(url, pool_size=1)
    try:
        pid = read_row(engine, "SELECT pg_backend_pid()", ())[0]
        _terminate(url, pid)
        monkeypatch.setattr(db, "PING_IDLE_S", 0.0)  # as if it had sat idle: pinged, found gone, replaced
        assert read_row(engine, "SELECT 1", ()) == (1,)
        assert read_row(engine, "SELECT pg_backend_pid()", ())[0] != pid
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(monkeypatch):
    """No ``SELECT 1`` round trip before each use; one before each use after an idle spell."""
    engine = make_engine(_url(), pool_size=1)
    pings = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real(conn))
    try:
        for _ in range(20):
            assert read_row(engine, "SELECT 1", ()) == (1,)
        assert pings == []
        monkeypatch.setattr(db, "PING_IDLE_S", 0.0)
        for _ in range(3):
            assert read_row(engine, "SELECT 1", ()) == (1,)
        assert len(pings) == 3
    finally:
        engine.dispose()
