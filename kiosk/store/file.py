"""``StoreFile``: one process's handle on the store file, shared with the other process.

It opens the file (made whole when missing), runs every statement under one lock (gpiozero callback
threads, Kivy's main thread and timers share it), turns SQLite's "disk full" / "read-only" into
``StoreUnavailable``, and keeps a little device state (``meta``). Damage, however it shows (at open, in
a statement, as a file that shrank, or in the background check of ``kiosk.store.checkpoint``), moves
the file aside (``kiosk.store.recovery``) and carries on in a fresh one whose unsent presses are
salvaged back on a thread (``kiosk.store.salvage``). The outbox and the counts build on it
(``kiosk.store.outbox``, ``kiosk.store.counts``). See docs/store.md.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from hymy.errors import StoreCorrupt, StoreError, StoreUnavailable
from kiosk.clock import read_boot_id
from kiosk.store import connection, migrations, recovery, reserve
from kiosk.store.checkpoint import CHECKPOINT_EVERY, Checkpointer
from kiosk.store.damage import DamageHandling
from kiosk.store.recovery import Recovery
from kiosk.store.salvage import Salvager

log = logging.getLogger(__name__)


class StoreFile(DamageHandling):
    """The store file at ``path`` (created whole, with its directory, when missing); what a damaged
    file does to it is ``DamageHandling``'s.

    ``synchronous`` is ``FULL`` by default; benchmarks may compare ``NORMAL``. Raises StoreUnavailable
    when the disk is full or read-only. A damaged file is moved aside and replaced (``recovery`` says so).
    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", check: bool = True,
                 boot_id: str | None = None):
        self.path = Path(path)
        self.synchronous = synchronous
        #: ``PRAGMA quick_check`` runs at the first open of each boot (``boot_id``, default the kernel's):
        #: it reads the whole file (seconds for a large store on an SD card), and corruption comes from
        #: power loss, i.e. a new boot, not from a process restart. ``check=False`` skips it. While
        #: running, the background thread checks every 10 minutes (``kiosk.store.checkpoint``).
        self.boot_id = boot_id or read_boot_id()
        self._lock = threading.RLock()
        #: The last time this store moved a damaged file aside (None: never).
        self.recovery: Recovery | None = None
        #: Bumped whenever the connection moves to another file (recovery, reopen): watchers reset.
        self.generation = 0
        self._read_only = False
        self._salvager: Salvager | None = None
        self._stale: dict[Path, sqlite3.Connection] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._commits = 0
        self._checkpointer: Checkpointer | None = None
        self.reserve_path = reserve.reserve_path(self.path)
        try:
            self._conn = self._open(check=check)
        except StoreUnavailable:
            if not reserve.release(self.path):
                raise
            self._conn = self._open(check=check)
        self._ensure_reserve()
        self._salvage()

    @classmethod
    def read_only(cls, path: str | Path):
        """The store at ``path`` for reading only (``hymy status``): creates, moves or changes no file
        (no ``-wal``/``-shm`` either when no process has it open). Raises FileNotFoundError when there
        is no store, StoreCorrupt when it is damaged (naming what is wrong), StoreUnavailable when it
        cannot be read (permissions); writes raise StoreError."""
        self = cls.__new__(cls)
        self.path = Path(path)
        self._lock = threading.RLock()
        self._read_only = True
        self._checkpointer = self._salvager = None
        self._stale = {}
        self.recovery = None
        try:
            self.path.stat()
        except FileNotFoundError:
            raise FileNotFoundError(f"{self.path}: no store (nothing recorded yet)") from None
        except OSError as exc:  # e.g. a data dir only the kiosk's user may read
            raise StoreUnavailable(f"{self.path}: cannot read the store: {exc.strerror or exc}") from exc
        problem = recovery.inspect(self.path)
        if problem is None:
            quiet = not Path(f"{self.path}-wal").exists()
            try:
                self._conn = sqlite3.connect(recovery.uri(self.path, "ro-quiet" if quiet else "ro"), uri=True,
                                             isolation_level=None, check_same_thread=False)
                tables = connection.tables(self._conn)
            except sqlite3.DatabaseError as exc:
                if not recovery.is_corruption(exc):
                    raise connection.as_store_error(self.path, exc, "read") from exc
                problem = str(exc)
            else:
                problem = None if tables >= connection.TABLES else connection.NO_TABLES
            if problem:
                self._conn.close()
        if problem:
            raise StoreCorrupt(f"{self.path}: the store is damaged: {problem}")
        self._ino, self._size = self._stat()
        return self

    # ------------------------------------------------------------------ opening

    def _connect(self, wal: bool = True) -> sqlite3.Connection:
        return connection.connect(self.path, self.synchronous, wal)

    def _create(self) -> None:
        """Create the missing store file whole (``kiosk.store.recovery.create``); call under the lock."""
        try:
            recovery.create(self.path, lambda conn: connection.prepare(conn, self.boot_id))
        except sqlite3.Error as exc:
            raise connection.as_store_error(self.path, exc, "create") from exc

    def _open(self, check: bool) -> sqlite3.Connection:
        """Connect, creating the store when missing; a damaged file is moved aside and replaced."""
        for _ in range(5):  # the other process may replace the file between our look and our lock
            if not self.path.exists():
                with recovery.locked(self.path):
                    recovery.remove_leftovers(self.path)
                    if not self.path.exists():
                        self._create()
            try:
                seen = self._stat()
            except FileNotFoundError:
                continue
            conn: sqlite3.Connection | None = None
            problem = recovery.inspect(self.path)
            if problem is None:
                try:
                    conn = self._connect(wal=False)
                    problem = connection.problem(conn, self.boot_id, check)
                    if problem is None:
                        connection.set_wal(conn)
                        migrations.migrate(conn)
                        self._ino, self._size = seen
                        return conn
                except sqlite3.DatabaseError as exc:
                    if not recovery.is_corruption(exc):
                        if conn is not None:
                            conn.close()
                        if not self.path.exists():
                            continue  # moved aside by the other process just now
                        raise connection.as_store_error(self.path, exc, "open") from exc
                    problem = str(exc)
            with recovery.locked(self.path):
                if self._same_file(seen[0]):
                    return self._recover(problem, conn)
            if conn is not None:  # the other process replaced it meanwhile: open the new one
                conn.close()
        raise StoreUnavailable(f"{self.path}: the store file keeps being replaced; cannot open it")

    def _stat(self) -> tuple[int, int]:
        st = os.stat(self.path)
        return st.st_ino, st.st_size

    def _same_file(self, ino: int) -> bool:
        try:
            return os.stat(self.path).st_ino == ino
        except FileNotFoundError:
            return False

    def replaced_on_disk(self) -> bool:
        """True when another process moved the file aside (corrupt-store recovery); ``reopen`` then.
        (Every statement also checks this itself and reopens; ``generation`` tells that it did.)"""
        try:
            return os.stat(self.path).st_ino != self._ino
        except FileNotFoundError:
            return True

    def reopen(self) -> None:
        """Close and open the file again (after another process replaced it)."""
        with self._lock:
            self._stop_checkpointer()  # its connection is on the old file
            self._conn.close()
            self._conn = self._open(check=False)
            self.generation += 1
            self._salvage()

    # ------------------------------------------------------------------ background: checkpoints, reserve

    def _stop_checkpointer(self, wait: bool = False) -> None:
        """Let the background thread go (its connection is on the file being left); ``wait`` for it."""
        if self._checkpointer is not None:
            self._checkpointer.stop(wait)
            self._checkpointer = None

    def _ensure_reserve(self) -> None:
        reserve.ensure(self.path)

    def _background(self) -> Checkpointer:
        if self._checkpointer is None:
            self._checkpointer = Checkpointer(self.path, self._ensure_reserve, self._damage_found, self.boot_id)
        return self._checkpointer

    def checkpoint(self) -> None:
        """Ask for a WAL checkpoint now, off the caller's thread (done by itself every
        ``CHECKPOINT_EVERY`` commits and every ``CHECKPOINT_IDLE_S`` seconds)."""
        with self._lock:
            self._background().nudge()

    def _committed(self) -> None:
        self._commits += 1
        checkpointer = self._background()
        if self._commits % CHECKPOINT_EVERY == 0:
            checkpointer.nudge()

    # ------------------------------------------------------------------ statements

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite's 'disk full'/'read-only' become StoreUnavailable, damage
        (SQLITE_CORRUPT, a file that shrank) moves the file aside and raises StoreCorrupt."""
        if self._read_only:
            raise StoreError(f"{self.path}: opened read-only")
        with self._lock:
            self._verify_file()
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    # SQLite may already have rolled back by itself (e.g. SQLITE_FULL): a second
                    # ROLLBACK would raise and hide the real error.
                    if conn.in_transaction:
                        with suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                self._committed()
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if recovery.is_corruption(exc):
                    raise self._recover_while_running(str(exc)) from exc
                if connection.is_unavailable(exc):
                    released = "full" in str(exc).lower() and reserve.release(self.path)
                    hint = "; released the disk reserve, retry now" if released else ""
                    raise StoreUnavailable(f"{self.path}: cannot write: {exc}{hint}") from exc
                raise

    def _read(self, sql: str, params: Iterable = ()) -> list[tuple]:
        params = tuple(params)
        with self._lock:
            try:
                self._verify_file()
            except StoreCorrupt:
                if self._read_only:
                    raise
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if not recovery.is_corruption(exc):
                    raise
                if self._read_only:
                    raise StoreCorrupt(f"{self.path}: the store is damaged: {exc}") from exc
                self._recover_while_running(str(exc))
                return self._conn.execute(sql, params).fetchall()

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A device-state value (``meta``: device_id, enrolment, last_sync...), or ``default``."""
        row = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0][0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        """Set a device-state value durably; None deletes it."""
        with self._write() as conn:
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def integrity_check(self) -> str:
        return self._read("PRAGMA integrity_check")[0][0]

    # ------------------------------------------------------------------ closing

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (the last one to close folds the WAL back and removes it); a running
        salvage stops (it is done again at the next open)."""
        if self._salvager is not None:
            self._salvager.stop()
        with self._lock:
            self._stop_checkpointer(wait=True)
            self._conn.close()
            for conn in self._stale.values():
                conn.close()
            self._stale = {}
