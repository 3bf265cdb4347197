"""Connections to a store file: the pragmas every connection gets, building a fresh store, and the
checks that tell a healthy store file from a damaged one.

Functions over ``sqlite3`` only; ``kiosk.store.file.StoreFile`` decides when to call them (see
docs/store.md for why WAL, ``synchronous=FULL`` and the checkpoint threshold).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random

from hymy.errors import StoreError, StoreUnavailable
from hymy.timestamps import format_ts, utcnow
from kiosk.store import migrations, recovery

log = logging.getLogger(__name__)

#: SQLite messages that mean "cannot write now, try again later" rather than a bug.
_UNAVAILABLE = ("disk is full", "readonly database", "disk i/o error", "unable to open database", "database is locked")
#: How long a statement waits for the other process's write lock, in milliseconds.
BUSY_TIMEOUT_MS = 5000
#: SQLite's in-COMMIT checkpoint threshold, in WAL pages (its default, 1000). With presses seconds
#: apart the background checkpoint (``kiosk.store.checkpoint``, every ``CHECKPOINT_EVERY`` commits) keeps
#: the WAL far below it; only a sustained burst reaches it.
#: (A higher threshold was tried: a WAL that grows instead of restarting makes every fsync slower,
#: p50 0.23 -> 0.40 ms here, because the file's size changes with each commit.)
AUTOCHECKPOINT_PAGES = 1000
#: The tables every store has had since its first version (a file without them is damaged).
TABLES = {"events", "meta"}
#: Said of a file whose tables are missing.
NO_TABLES = "the file has no outbox tables"


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


@retry(retry=retry_if_exception(_locked), stop=stop_after_delay(BUSY_TIMEOUT_MS / 1000),
       wait=wait_random(0.005, 0.05), reraise=True)
def set_wal(conn: sqlite3.Connection) -> None:
    """WAL mode. Switching a new file needs its exclusive lock, and SQLite answers "locked" at once,
    without waiting on busy_timeout, when another process (kiosk and sync agent start together) is
    switching it too: tried again for up to the busy timeout."""
    conn.execute("PRAGMA journal_mode = WAL")


def is_unavailable(exc: sqlite3.Error) -> bool:
    """True when SQLite says the disk is full, read-only, failing or locked: try again later."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and any(m in text for m in _UNAVAILABLE)


def as_store_error(path: Path, exc: sqlite3.Error, doing: str) -> StoreError:
    """``exc`` met while ``doing`` (open, create, read...) the store at ``path``, as the store's error."""
    if is_unavailable(exc):
        return StoreUnavailable(f"{path}: cannot {doing} the store: {exc}")
    return StoreError(f"{path}: {exc}")


def connect(path: Path, synchronous: str = "FULL", wal: bool = True) -> sqlite3.Connection:
    """A connection to the existing store file (never creating one: a missing file raises).

    ``synchronous`` is SQLite's pragma (FULL by default); ``wal`` False leaves the journal mode alone
    (a file not yet checked is not changed)."""
    conn = sqlite3.connect(recovery.uri(path, "rw"), uri=True, isolation_level=None,
                           check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if wal:
            set_wal(conn)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        # checkpoints normally run off the press path (kiosk.store.checkpoint); SQLite's own is the safety
        # net for a sustained burst of writes that never leaves the background checkpoint a quiet moment
        conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
    except BaseException:
        conn.close()
        raise
    return conn


def prepare(conn: sqlite3.Connection, boot_id: str) -> None:
    """Build a fresh store in ``conn`` (a new, empty file): WAL, the schema, this boot's check.
    No fsync per step: ``recovery.create`` fsyncs the finished file once before it links it in."""
    conn.execute("PRAGMA synchronous = OFF")
    set_wal(conn)
    migrations.migrate(conn)
    mark_checked(conn, boot_id)


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def problem(conn: sqlite3.Connection, boot_id: str, check: bool = True) -> str | None:
    """What is wrong with an open store file (no tables, a failed ``quick_check``), or None.

    ``quick_check`` runs when ``check`` and this boot (``boot_id``) has not passed one yet; a pass is
    noted in ``meta``."""
    if not tables(conn) >= TABLES:
        return NO_TABLES
    if check and needs_check(conn, boot_id):
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            return f"quick_check: {result}"
        mark_checked(conn, boot_id)
    return None


def needs_check(conn: sqlite3.Connection, boot_id: str) -> bool:
    """True unless boot ``boot_id``'s quick_check already passed (meta ``quick_check``)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'quick_check'").fetchone()
    try:
        return not row or json.loads(row[0]).get("boot_id") != boot_id
    except (ValueError, AttributeError):
        return True


def mark_checked(conn: sqlite3.Connection, boot_id: str) -> None:
    """Note in ``meta`` that boot ``boot_id``'s integrity check passed (a full disk: checked again next time)."""
    value = json.dumps({"boot_id": boot_id, "at": format_ts(utcnow()), "result": "ok"})
    try:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('quick_check', ?)", (value,))
    except sqlite3.OperationalError as exc:  # a full disk: check again next time, nothing lost
        file = next((row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"), "the store")
        log.warning("%s: could not note the passed integrity check: %s", file, exc)
