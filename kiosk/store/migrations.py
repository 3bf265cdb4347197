"""The local store's schema history: versioned and re-runnable (``PRAGMA user_version``).

Each migration runs once, inside one transaction, and records its number; opening a store of any
earlier version brings it up to date, and opening an up-to-date one does nothing. Never edit a
released migration: add the next one.

Why not a migration library: sqlite-utils offers table operations but no versioning, and the
sqlite-migrate plugin is alpha; a numbered list over ``user_version`` is the SQLite idiom and needs
no extra table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils


def _m1_events(db: sqlite_utils.Database) -> None:
    """The outbox: every response and follow-up in the order recorded."""
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL CHECK (type IN ('response', 'followup')),
            body TEXT NOT NULL,
            response_id TEXT,
            kind TEXT,
            mood INTEGER,
            scale INTEGER,
            flags TEXT NOT NULL DEFAULT '',
            pressed_at TEXT NOT NULL,
            boot_id TEXT,
            uptime_ms INTEGER,
            clock_synced INTEGER NOT NULL DEFAULT 1,
            stored_at TEXT NOT NULL,
            sent_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX events_unsent ON events (seq) WHERE sent_at IS NULL")
    db.execute("CREATE INDEX events_pressed_at ON events (pressed_at)")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")


def _m2_quarantine(db: sqlite_utils.Database) -> None:
    """Events the server rejected: kept with the reason, never blocking the ones behind them."""
    db.execute(
        """
        CREATE TABLE quarantine (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            body TEXT NOT NULL,
            reason TEXT NOT NULL,
            quarantined_at TEXT NOT NULL
        )
        """
    )


def _m3_clock_corrections(db: sqlite_utils.Database) -> None:
    """Find unsynced presses of one boot quickly when the clock syncs."""
    db.execute("CREATE INDEX events_unsynced ON events (boot_id) WHERE clock_synced = 0")


def _m4_followups_by_response(db: sqlite_utils.Database) -> None:
    """Find a response's follow-ups (voids) without scanning the outbox: today's counts check every
    response for a void, which without this index took minutes on a store of 60,000 events."""
    db.execute("CREATE INDEX events_response_id ON events (response_id) WHERE response_id IS NOT NULL")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m1_events, _m2_quarantine, _m3_clock_corrections, _m4_followups_by_response,
]
LATEST = len(MIGRATIONS)


def version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, upto: int = LATEST) -> int:
    """Apply the missing migrations up to ``upto``; return the number applied. Safe to call at every start
    and from two processes at once (``BEGIN IMMEDIATE`` serialises them; the loser finds nothing to do)."""
    db = sqlite_utils.Database(conn)
    applied = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = version(conn)
            if current >= upto:
                conn.execute("COMMIT")
                return applied
            MIGRATIONS[current](db)
            conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
            applied += 1
        except BaseException:
            conn.execute("ROLLBACK")
            raise
