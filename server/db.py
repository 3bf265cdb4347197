"""Engines for SQLite (WAL, busy timeout, foreign keys) and PostgreSQL (psycopg 3), and dialect helpers."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Engine,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

T = TypeVar("T")
Item = TypeVar("Item")


#: SQLite only: connections a file's pool may open beyond its size (background jobs, the after-ingest
#: worker), closed again when returned; a SQLite connection is a file handle, not a server process.
POOL_OVERFLOW = 5


def make_engine(url: str, pool_size: int | None = None) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created and the file put in WAL mode.

    ``pool_size``: PostgreSQL connections this engine may hold (no overflow; a request waits for a free
    one): ``Settings.pool_per_worker`` in a server; None: 10, and 20 more for bursts (tools, tests).
    A SQLite file keeps ``pool_size`` (default 10) and :data:`POOL_OVERFLOW` more for a while."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **({} if u.database in (None, "", ":memory:") else
                                  {"pool_size": pool_size or 10, "max_overflow": POOL_OVERFLOW}))

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
        engine = create_engine(url, pool_size=10, max_overflow=20)
    else:
        engine = create_engine(url, pool_size=pool_size, max_overflow=0)
    _ping_when_idle(engine)
    return engine


#: A pooled PostgreSQL connection unused for this many seconds is pinged before it is handed out.
PING_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle for :data:`PING_IDLE_S` or longer.

    SQLAlchemy's ``pool_pre_ping`` pings at every check-out: a round trip and a statement on both sides
    before every device request's token check and every transaction (a fifth of the server's samples in a
    profile of ``bench/fleet.py --realistic`` on PostgreSQL). A connection in steady use has just worked; one
    that sat idle (a database restart, a firewall dropping quiet connections) is pinged, and replaced when
    that fails (``DisconnectionError``: the pool connects anew). A connection that breaks while in use
    fails its request, is thrown away (``raw_writing``, SQLAlchemy's own disconnect handling), and the
    client sends again (the sync agent keeps every press until it is accepted)."""

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn, record):
        record.info["hymy_used"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _used(_dbapi_conn, record):
        if record is not None:
            record.info["hymy_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        if time.monotonic() - record.info.get("hymy_used", 0.0) < PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection idle for {PING_IDLE_S:g} s or more is gone: {exc}") from exc


_WRITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _writer(engine: Engine) -> tuple[Engine, contextlib.AbstractContextManager]:
    """The engine's write options (made once, not per transaction) and, on SQLite, the process's write
    lock: writers of one process queue on it in order instead of polling SQLite's lock (busy_timeout
    sleeps of up to 100 ms); other processes still meet SQLite's own lock."""
    got = _WRITERS.get(engine)
    if got is None:
        lock = threading.RLock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        got = _WRITERS[engine] = (engine.execution_options(hymy_write=True), lock)
    return got


@contextlib.contextmanager
def writing(engine: Engine):
    """``with writing(engine) as conn:`` a write transaction (BEGIN IMMEDIATE on SQLite)."""
    if NO_WAIT.get():
        raise WouldWait("writing() may wait for SQLite's lock")
    options, lock = _writer(engine)
    with lock, options.begin() as conn:
        yield conn


class _SqliteWriter:
    """SQLite: a driver connection of its own, taken from the pool once and kept (no check-out and return
    per use); closed when the engine is disposed. The process's connection for :func:`raw_writing` (and
    one more for its writes that must not wait, :data:`NO_WAIT`),
    used only under the write lock (so by one thread at a time), and one per thread for :func:`read_row`."""

    def __init__(self, engine: Engine):
        fairy = engine.raw_connection()
        self.driver = fairy.driver_connection
        fairy.detach()  # ours for good: the pool neither counts nor resets it
        self.cur = self.driver.cursor()
        self.closed = False
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self.driver.close()


_SQLITE_WRITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SQLITE_NOWAIT_WRITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class WouldWait(Exception):  # noqa: N818 - a signal, not an error
    """A write asked not to wait (:data:`NO_WAIT`) found the database locked: nothing was written; do it
    where waiting is fine (``server.loopwrite``)."""


#: Set while this thread must not wait for a lock (the event loop, ``server.loopwrite``): SQLite's
#: :func:`raw_writing` then uses a connection with no busy timeout and raises :class:`WouldWait` instead
#: of waiting for another process's write; :func:`writing` raises it at once.
NO_WAIT: contextvars.ContextVar[bool] = contextvars.ContextVar("hymy_no_wait", default=False)


def _nowait_writer(engine: Engine) -> _SqliteWriter:
    """The process's connection for writes that must not wait: no busy timeout, and no automatic
    checkpoint (a checkpoint writes and syncs the database file; ``server.loopwrite`` has it done on a
    database thread)."""
    writer = _SQLITE_NOWAIT_WRITERS.get(engine)
    if writer is None or writer.closed:
        writer = _SQLITE_NOWAIT_WRITERS[engine] = _SqliteWriter(engine)
        writer.cur.execute("PRAGMA busy_timeout=0")
        writer.cur.execute("PRAGMA wal_autocheckpoint=0")
    return writer


@contextlib.contextmanager
def raw_writing(engine: Engine) -> Iterator[tuple[Any, str]]:
    """``with raw_writing(engine) as (cur, dialect):`` a write transaction straight on a driver connection
    (``sqlite3`` or psycopg), for the hot path where SQLAlchemy's per-statement work costs more than the
    statements: committed when the block ends, rolled back when it raises. SQLite: BEGIN IMMEDIATE under
    the process's write lock, as :func:`writing`, on the process's one writing connection
    (:class:`_SqliteWriter`). PostgreSQL: a pooled connection in psycopg's pipeline mode (a statement is
    sent at once, its results awaited only when read, so BEGIN travels with the first statement and
    statements whose results are not read with the COMMIT); one found broken is dropped from the pool.
    Under :data:`NO_WAIT` (SQLite): :class:`WouldWait` instead of waiting for the lock."""
    _, lock = _writer(engine)
    if engine.dialect.name == "sqlite":
        nowait = NO_WAIT.get()
        if not lock.acquire(blocking=not nowait):
            raise WouldWait("another thread of this process is writing")
        try:
            if nowait:
                writer = _nowait_writer(engine)
            else:
                writer = _SQLITE_WRITERS.get(engine)
                if writer is None:
                    writer = _SQLITE_WRITERS[engine] = _SqliteWriter(engine)
            cur = writer.cur
            try:
                cur.execute("BEGIN IMMEDIATE")
            except Exception as exc:
                if nowait and _driver_error(exc) and "locked" in str(exc).lower():
                    raise WouldWait(f"another process is writing: {exc}") from exc
                raise
            try:
                yield cur, "sqlite"
            except BaseException:
                with contextlib.suppress(Exception):
                    writer.driver.rollback()
                raise
            cur.execute("COMMIT")
        finally:
            lock.release()
        return
    fairy = engine.raw_connection()
    driver = fairy.driver_connection
    try:
        cur = driver.cursor()
        try:
            with driver.pipeline():
                yield cur, "postgresql"
                driver.commit()
        except BaseException:
            if driver.closed or driver.broken:
                fairy.invalidate()
            else:
                with contextlib.suppress(Exception):
                    driver.rollback()
            raise
        finally:
            with contextlib.suppress(Exception):
                cur.close()
    finally:
        fairy.close()


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
        except Exception as exc:
            if not isinstance(exc, OperationalError | DBAPIError) and not _driver_error(exc):
                raise
            text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
            transient = any(w in text for w in ("deadlock", "could not serialize", "database is locked", "busy"))
            if not transient or i == attempts - 1:
                raise
            time.sleep(0.01 * (2**i))
    raise AssertionError("unreachable")


def together(items: Sequence[Item], key: Callable[[Item], Any], store: Callable[[list[Item]], list[T]]) -> list[T | Exception]:
    """``store(items in key order)``, one transaction for all (retried as :func:`retrying`), and its result per
    item in the items' own order. Should it fail for good, ``store([item])`` for each, so an item's failure
    is its own: its entry is the exception. The key order makes two such transactions on PostgreSQL take
    their row locks in the same order."""
    order = sorted(range(len(items)), key=lambda i: key(items[i]))
    try:
        done = retrying(lambda: store([items[i] for i in order]))
    except WouldWait:  # nothing stored: the caller does it all where it may wait
        raise
    except Exception as exc:
        if len(items) == 1:
            return [exc]
        return [_alone(item, key, store) for item in items]
    out: list = [None] * len(items)
    for k, i in enumerate(order):
        out[i] = done[k]
    return out


def _alone(item, key, store):
    """:func:`together` of one item: its result or exception (a :class:`WouldWait` too)."""
    try:
        return together([item], key, store)[0]
    except WouldWait as exc:
        return exc


_SQLITE_READERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def read_row(engine: Engine, sql: str, params: tuple) -> tuple | None:
    """The first row of one read (``sql`` with ``?`` placeholders) straight on a driver connection, or
    None: no transaction of its own. SQLite: the calling thread's own connection (kept, reads in
    autocommit mode; a pool check-out and return cost twice the read); PostgreSQL: a pooled connection in
    autocommit for this statement, so no BEGIN and no ROLLBACK round trip. For the reads every request
    makes."""
    return _read(engine, sql, params, first=True)


def read_rows(engine: Engine, sql: str, params: tuple) -> list[tuple]:
    """Every row of one read, as :func:`read_row` reads (for the reads of the hot paths: the device API and
    the alert evaluation after every batch, where SQLAlchemy's work per statement costs more than the read)."""
    return _read(engine, sql, params, first=False)


def _read(engine: Engine, sql: str, params: tuple, first: bool):
    if engine.dialect.name != "postgresql":
        local = _SQLITE_READERS.get(engine)
        if local is None:
            local = _SQLITE_READERS.setdefault(engine, threading.local())
        reader = getattr(local, "reader", None)
        if reader is None or reader.closed:  # (a disposed engine's pool opens new connections too)
            reader = local.reader = _SqliteWriter(engine)
        cur = reader.driver.execute(sql, params)
        return cur.fetchone() if first else cur.fetchall()
    fairy = engine.raw_connection()
    try:
        driver = fairy.driver_connection
        driver.autocommit = True
        try:
            cur = driver.execute(sql.replace("?", "%s"), params)
            return cur.fetchone() if first else cur.fetchall()
        finally:
            if not driver.closed:
                driver.autocommit = False
    except BaseException:
        if getattr(fairy.driver_connection, "closed", False):
            fairy.invalidate()
        raise
    finally:
        fairy.close()


def _driver_error(exc: BaseException) -> bool:
    """An error of the database driver itself (``sqlite3``, psycopg), as :func:`raw_writing` raises them."""
    return type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg")
