"""Fixtures for the alert tests: a migrated server database on SQLite, and one on real PostgreSQL
(its own schema per test, dropped afterwards)."""

from __future__ import annotations

import secrets
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from tests.alerts.helpers import make_db


@pytest.fixture
def db(tmp_path):
    engine = make_db(f"sqlite:///{tmp_path}/server.db")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_db(postgres_url):
    schema = "alerts_" + secrets.token_hex(4)
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_url else "?"
    engine = make_db(f"{postgres_url}{sep}options={quote(f'-csearch_path={schema}')}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
