"""Server test fixtures: every database test runs on SQLite and again on a real PostgreSQL.

``db_url`` is parametrised ``sqlite`` / ``postgres``; the PostgreSQL case gets its own schema
(``search_path`` in the URL), dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import uuid6
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from hymy.timestamps import format_ts
from server import admin, auth
from server.app import create_app
from server.db import make_engine
from server.settings import Settings


def schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote('-csearch_path=' + schema)}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database URL: a SQLite file in tmp_path, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    schema = "t_" + secrets.token_hex(6)
    admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(base, schema)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(database_url=db_url, secure_cookies=False, device_rate_per_min=0, ip_rate_per_min=0)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def engine(app):
    return app.state.engine


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


class World:
    """Two regions, three stores, an enrolled device per store, and one user of every role."""

    def __init__(self, engine, client):
        self.engine, self.client = engine, client
        self.north = admin.create_region(engine, "North", "north")
        self.south = admin.create_region(engine, "South", "south")
        self.s1 = admin.create_store(engine, "Store One", store_id="s1", region_id="north")
        self.s2 = admin.create_store(engine, "Store Two", store_id="s2", region_id="north")
        self.s3 = admin.create_store(engine, "Store Three", store_id="s3", region_id="south",
                                     timezone="Europe/Stockholm")
        self.tokens = {}
        for sid in ("s1", "s2", "s3"):
            new = admin.create_device(engine, sid, f"exit {sid}")
            r = client.post("/api/v1/enroll", json={"code": new.code})
            assert r.status_code == 200, r.text
            self.tokens[sid] = r.json()["token"]
        pw = "correct horse battery"
        self.users = {
            "admin": auth.create_user(engine, "ada", pw, "admin"),
            "regional": auth.create_user(engine, "rita", pw, "regional_manager", regions=["north"]),
            "manager": auth.create_user(engine, "matti", pw, "store_manager", stores=["s1"]),
            "technician": auth.create_user(engine, "teemu", pw, "technician", stores=["s1"]),
        }
        self.api_tokens = {k: auth.create_api_token(engine, u) for k, u in self.users.items()}

    def device(self, sid: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[sid]}"}

    def user(self, role: str) -> dict:
        return {"Authorization": f"Bearer {self.api_tokens[role]}"}


@pytest.fixture
def world(engine, client) -> World:
    return World(engine, client)


def press(mood: int = 4, at: datetime | None = None, **kw) -> dict:
    """A valid response event as a dict (the wire form)."""
    at = at or datetime.now(UTC)
    ev = {"type": "response", "id": str(uuid6.uuid7()), "question_id": "q-default", "mood": mood, "scale": 4,
          "source": "touch", "pressed_at": format_ts(at), "clock_synced": True, "boot_id": "boot-1",
          "uptime_ms": 1000, "flags": [], "app_version": "0.1.0"}
    ev.update(kw)
    return ev


def followup(response_id: str, kind: str = "reason", value: str = "queue", at: datetime | None = None) -> dict:
    at = at or datetime.now(UTC)
    return {"type": "followup", "id": str(uuid6.uuid7()), "response_id": response_id, "kind": kind,
            "value": value, "pressed_at": format_ts(at)}


def today_local(tz: str = "Europe/Helsinki") -> str:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(tz)).date().isoformat()


__all__ = ["World", "press", "followup", "today_local", "timedelta", "uuid", "make_engine"]
