"""Engines for SQLite (WAL, busy timeout, foreign keys) and PostgreSQL (psycopg 3), and dialect helpers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Engine,
    Integer,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

T = TypeVar("T")


def make_engine(url: str, pool_size: int | None = None) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created and the file put in WAL mode.

    ``pool_size``: PostgreSQL connections this engine may hold (no overflow; a request waits for a free
    one): ``Settings.pool_per_worker`` in a server; None: 10, and 20 more for bursts (tools, tests)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no branch
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Writers ask for IMMEDIATE (see :func:`writing`): take the write lock at the start, so two
            # writers queue on busy_timeout instead of failing on lock upgrade. Readers use plain BEGIN.
            immediate = conn.get_execution_options().get("hymy_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if pool_size is None:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=0)


def writing(engine: Engine):
    """``with writing(engine) as conn:`` a write transaction (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(hymy_write=True).begin()


def is_postgres(engine_or_conn) -> bool:
    return engine_or_conn.dialect.name == "postgresql"


def insert_for(dialect: str):
    """The dialect's ``insert`` (with ``on_conflict_do_*``) for ``"sqlite"`` or ``"postgresql"``."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def retrying(fn: Callable[[], T], attempts: int = 5) -> T:
    """Run ``fn`` again on a deadlock / serialisation failure / lock timeout (bounded, short pauses)."""
    for i in range(attempts):
        try:
            return fn()
        except (OperationalError, DBAPIError) as exc:
            text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
            transient = any(w in text for w in ("deadlock", "could not serialize", "database is locked", "busy"))
            if not transient or i == attempts - 1:
                raise
            time.sleep(0.01 * (2**i))
    raise AssertionError("unreachable")


def in_ids(dialect: str, column):
    """``column IN :ids`` with the whole list as one bound value named ``ids`` (PostgreSQL
    ``= ANY(array)``, SQLite ``IN (SELECT value FROM json_each(json))``): one cached statement whatever the
    list's length, instead of hundreds of placeholders rendered each time. Pass ``ids_value(dialect, ids)``."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=ARRAY(String)))
    return column.in_(select(func.json_each(bindparam("ids", type_=String)).table_valued("value").c.value))


def ids_value(dialect: str, ids: list[str]):
    """The value of :func:`in_ids`'s ``ids`` parameter."""
    return list(ids) if dialect == "postgresql" else json.dumps(list(ids))


def _pg_type(col) -> str:
    if isinstance(col.type, BigInteger):
        return "bigint"
    if isinstance(col.type, Integer):
        return "integer"
    if isinstance(col.type, Boolean):
        return "boolean"
    return "text"


def insert_unnest(conn, table, rows: list[dict], suffix: str = ""):
    """PostgreSQL: ``INSERT INTO table SELECT * FROM unnest(arrays)`` + ``suffix`` (e.g. ``ON CONFLICT ...
    RETURNING id``): one array parameter per column, so the statement stays small and cached whatever the
    number of rows. Returns the result."""
    cols = list(table.c)
    arrays = ", ".join(f"CAST(:{c.name} AS {_pg_type(c)}[])" for c in cols)
    sql = text(f"INSERT INTO {table.name} ({', '.join(c.name for c in cols)}) SELECT * FROM unnest({arrays}){suffix}")
    return conn.execute(sql, {c.name: [r[c.name] for r in rows] for c in cols})
