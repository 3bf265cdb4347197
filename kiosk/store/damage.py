"""What a damaged store file does to a running ``StoreFile``: it is moved aside and a fresh store
takes over at once, and the readable rows of the damaged one are salvaged back on a thread.

Damage shows at open (``StoreFile._open``), in a statement (SQLITE_CORRUPT / SQLITE_NOTADB), as a file
that shrank (checked before every statement) or in the background check (``kiosk.store.checkpoint``);
however it shows, the same steps follow (``kiosk.store.recovery`` moves the file, ``kiosk.store.salvage``
reads it). See docs/store.md, "Damaged files".
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from hymy.errors import StoreCorrupt, StoreError
from kiosk.store import recovery
from kiosk.store.recovery import Recovery
from kiosk.store.salvage import EVENT_COLUMNS, Salvager

log = logging.getLogger(__name__)


class DamageHandling:
    """The damage-handling part of ``kiosk.store.file.StoreFile`` (its only user), kept apart by concept.

    Works on the StoreFile's state (``path``, the lock, the connection and the inode and size it was
    opened at) and calls back its opening steps (``_open``, ``_create``, ``_connect``, ``_stat``,
    ``_same_file``, ``reopen``, ``_stop_checkpointer``) and ``_write``.
    """

    path: Path
    #: The last time this store moved a damaged file aside (None: never).
    recovery: Recovery | None
    #: Bumped whenever the connection moves to another file (recovery, reopen): watchers reset.
    generation: int
    _lock: threading.RLock
    _conn: sqlite3.Connection
    _ino: int
    _size: int
    _read_only: bool
    _salvager: Salvager | None
    #: Connections to files moved aside while running, handed to the salvage (their page cache may
    #: still hold pages the file lost).
    _stale: dict[Path, sqlite3.Connection]

    def _recover(self, detail: str, stale: sqlite3.Connection | None, keep_stale: bool = False) -> sqlite3.Connection:
        """Move the damaged file aside, create a fresh store, connect to it (call under the lock).

        ``stale`` is the connection to the damaged file: closed once the files are moved, or with
        ``keep_stale`` handed to the salvage (its page cache may hold pages the file lost)."""
        try:
            moved = recovery.move_aside(self.path, detail)
        except StoreError:
            if stale is not None:
                stale.close()
            raise
        if stale is not None:
            if keep_stale:
                self._stale[Path(moved.moved_to)] = stale
            else:
                stale.close()
        self.recovery = moved
        self._create()
        conn = self._connect()
        self._ino, self._size = self._stat()
        self.generation += 1
        return conn

    def _recover_while_running(self, detail: str) -> StoreCorrupt:
        """The open file turned out damaged: recover now, as at start, so recording goes on in a fresh
        file (unless the other process did so already: then reopen); return the error for the caller
        to raise (the Recorder holds the press and retries into the fresh store). Call under ``_lock``."""
        self._stop_checkpointer()
        with recovery.locked(self.path):
            ours = self._same_file(self._ino)
            if ours:
                try:
                    self._conn = self._recover(f"while running: {detail}", self._conn, keep_stale=True)
                except StoreError:  # cannot move it aside (read-only directory): keep a connection, say why
                    self._conn = self._connect()
                    raise
        if ours:
            moved = f"moved aside to {self.recovery.moved_to}"
        else:
            self._conn.close()
            self._conn = self._open(check=False)
            self.generation += 1
            moved = "the other process moved it aside"
        self._salvage()
        return StoreCorrupt(f"{self.path}: the store was damaged ({detail}); {moved} and started a fresh one; retry")

    def _damage_found(self, detail: str, ino: int) -> None:
        """The background check found the file ``ino`` damaged: recover now (on the checkpoint thread),
        unless this store has moved to another file meanwhile."""
        with self._lock:
            if self._read_only or ino != self._ino:
                return
            try:
                self._recover_while_running(detail)
            except StoreError as exc:
                log.error("%s", exc)

    def _verify_file(self) -> None:
        """Before each statement (a stat, about a microsecond): reopen a file the other process replaced;
        recover one that shrank (a store file never does: SQLite only ever extends it)."""
        try:
            ino, size = self._stat()
        except FileNotFoundError:
            ino, size = -1, 0
        if ino != self._ino:
            if not self._read_only:
                self.reopen()
        elif size < self._size:
            detail = f"the file shrank from {self._size} to {size} bytes"
            if self._read_only:
                raise StoreCorrupt(f"{self.path}: the store is damaged: {detail}")
            raise self._recover_while_running(detail)
        else:
            self._size = size

    def _salvage(self) -> None:
        """Start salvaging moved-aside files not salvaged yet (``kiosk.store.salvage``), on a thread."""
        if self._salvager is not None and not self._salvager.done.is_set():
            if self._stale:  # a new recovery while the last salvage runs: it picks the file up next
                self._salvager.sources.update(self._stale)
                self._stale = {}
            return
        if not Salvager.pending(self.path):
            return
        self._salvager = Salvager(self.path, self.absorb, self._stale).start()
        self._stale = {}

    def wait_salvaged(self, timeout: float | None = None) -> bool:
        """Wait until the running salvage (if any) has finished; True when none is running."""
        with self._lock:  # a recovery under way on another thread starts its salvage before letting go
            salvager = self._salvager
        return salvager is None or salvager.done.wait(timeout)

    def absorb(self, events: Sequence[tuple] = (), quarantine: Sequence[tuple] = (),
               meta: Sequence[tuple] = ()) -> tuple[int, int]:
        """Take rows salvaged from a damaged store, in one transaction; returns (rows added, of which
        unsent events). ``events`` are tuples of ``kiosk.store.salvage.EVENT_COLUMNS`` (they get new order
        numbers, in the order given), ``quarantine`` of ``QUARANTINE_COLUMNS``, ``meta`` (key, value).
        An id already stored (in the outbox or quarantine) is skipped; a meta key already set is kept."""
        added = unsent = 0
        sent_at = EVENT_COLUMNS.index("sent_at")
        marks = ",".join("?" * len(EVENT_COLUMNS))
        with self._write() as conn:
            for row in events:
                cur = conn.execute(
                    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) SELECT {marks}"
                    " WHERE NOT EXISTS (SELECT 1 FROM quarantine WHERE id = ?) ON CONFLICT (id) DO NOTHING",
                    (*row, row[0]))
                added += cur.rowcount
                unsent += cur.rowcount if row[sent_at] is None else 0
            for seq, *rest in quarantine:
                known = "SELECT 1 FROM events WHERE id = ? UNION ALL SELECT 1 FROM quarantine WHERE id = ?"
                if conn.execute(known, (rest[0], rest[0])).fetchone() is None:
                    added += self._insert_quarantined(conn, seq, *rest)
            conn.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", meta)
        return added, unsent

    @staticmethod
    def _insert_quarantined(conn: sqlite3.Connection, seq: int | None, id: str, type: str, body: str, reason: str,
                            at: str) -> int:
        """Keep a quarantined event: under its order number, or a new one when another row has that
        number (never replacing another quarantined event); the same id again only updates the reason."""
        if seq is not None and conn.execute("SELECT 1 FROM quarantine WHERE seq = ? AND id != ?", (seq, id)).fetchone():
            seq = None
        return conn.execute(
            "INSERT INTO quarantine (seq, id, type, body, reason, quarantined_at) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, quarantined_at = excluded.quarantined_at",
            (seq, id, type, body, reason, at)).rowcount
