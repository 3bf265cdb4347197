"""Server test fixtures: every database test runs on SQLite and again on a real PostgreSQL.

``db_url`` is parametrised ``sqlite`` / ``postgres``; the PostgreSQL case gets its own schema
(``search_path`` in the URL), dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import uuid6
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from hymy.timestamps import format_ts
from server import admin, auth
from server import tables as t
from server.app import create_app
from server.db import make_engine
from server.migrate import upgrade
from server.settings import Settings
from tests.conftest import need


def schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote('-csearch_path=' + schema)}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy (migrations cost ~0.2 s each)."""
    path = tmp_path_factory.mktemp("template") / "server.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_schema() -> str:
    """One migrated PostgreSQL schema per session; tests truncate it before use."""
    base = os.environ.get("HYMY_TEST_POSTGRES_URL", "")
    need("postgres", bool(base), "set HYMY_TEST_POSTGRES_URL=postgresql+psycopg://user:pw@127.0.0.1/db")
    schema = "t_" + secrets.token_hex(6)
    root = create_engine(base, isolation_level="AUTOCOMMIT")
    with root.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = schema_url(base, schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with root.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        root.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> str:
    """A migrated, empty database: a copy of the SQLite template, or the session's PostgreSQL schema
    with every table truncated."""
    if request.param == "sqlite":
        path = tmp_path / "server.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("_pg_schema")
    engine = create_engine(url)
    with engine.begin() as conn:
        names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                  "AND tablename <> 'alembic_version'")).scalars().all()
        if names:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(database_url=db_url, secure_cookies=False, device_rate_per_min=0, ip_rate_per_min=0,
                    components=())


def with_alerts(settings: Settings) -> Settings:
    """``settings`` with the alerts API installed too (no e-mail, no background sweep or reports), for
    tests that go over every operation of the API."""
    return settings.with_(components=("alerts",), smtp=None, background_jobs=False)


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


PASSWORD = "correct horse battery"
_HASH: list[str] = []


def password_hash() -> str:
    """One Argon2id hash of PASSWORD per session (hashing costs ~0.1 s on purpose)."""
    if not _HASH:
        _HASH.append(auth.hash_password(PASSWORD))
    return _HASH[0]


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
        h = password_hash()
        self.users = {
            "admin": auth.create_user(engine, "ada", "", "admin", password_hash=h),
            "regional": auth.create_user(engine, "rita", "", "regional_manager", regions=["north"], password_hash=h),
            "manager": auth.create_user(engine, "matti", "", "store_manager", stores=["s1"], password_hash=h),
            "technician": auth.create_user(engine, "teemu", "", "technician", stores=["s1"], password_hash=h),
        }
        self.api_tokens = {k: auth.create_api_token(engine, u) for k, u in self.users.items()}

    def device(self, sid: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[sid]}"}

    def user(self, role: str) -> dict:
        return {"Authorization": f"Bearer {self.api_tokens[role]}"}


@pytest.fixture
def world(engine, client) -> World:
    return World(engine, client)


def store_with_devices(engine, n: int = 3, tz: str = "Europe/Helsinki") -> tuple[str, list[str]]:
    """A new store in zone ``tz`` and ``n`` devices of it: ``(store id, [device ids])``."""
    sid = admin.create_store(engine, "Kamppi", timezone=tz)
    return sid, [admin.create_device(engine, sid, f"exit {i}").device_id for i in range(n)]


def stored_responses(engine) -> int:
    """How many responses the database holds."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.responses)).scalar_one()


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
