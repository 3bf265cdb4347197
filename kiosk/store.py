"""The device's local store: one SQLite file shared by the kiosk and sync processes.

WAL lets the kiosk write while the sync agent reads; ``synchronous=FULL`` makes a returned
``append`` durable across power loss, so a press is committed before the customer is thanked.
Each process opens its own ``Store``; one ``Store`` is safe to use from several threads (gpiozero
callbacks, Kivy's main thread) because every statement runs under its lock.

A damaged file (``kiosk.recovery``) is moved aside and replaced by a fresh store at once, whether the
damage shows at open, in a statement (SQLITE_CORRUPT / SQLITE_NOTADB), as a file that shrank, or in the
background check (``kiosk.checkpoint``); its readable rows are then copied into the fresh store on a
background thread (``kiosk.salvage``), so its unsent presses are delivered after all.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random

from hymy.errors import StoreCorrupt, StoreError, StoreUnavailable
from hymy.hours import zone
from hymy.protocol import Followup, FollowupKind, Response
from hymy.timestamps import format_ts, parse_ts, utcnow
from kiosk import migrations, recovery, reserve
from kiosk.checkpoint import CHECKPOINT_EVERY, Checkpointer
from kiosk.clock import read_boot_id
from kiosk.recovery import Recovery
from kiosk.reserve import RESERVE_BYTES
from kiosk.salvage import EVENT_COLUMNS, Salvager

log = logging.getLogger(__name__)

#: SQLite messages that mean "cannot write now, try again later" rather than a bug.
_UNAVAILABLE = ("disk is full", "readonly database", "disk i/o error", "unable to open database", "database is locked")
BUSY_TIMEOUT_MS = 5000

#: SQLite's in-COMMIT checkpoint threshold, in WAL pages (its default, 1000). With presses seconds
#: apart the background checkpoint (``kiosk.checkpoint``, every ``CHECKPOINT_EVERY`` commits) keeps the
#: WAL far below it; only a sustained burst reaches it.
#: (A higher threshold was tried: a WAL that grows instead of restarting makes every fsync slower,
#: p50 0.23 -> 0.40 ms here, because the file's size changes with each commit.)
AUTOCHECKPOINT_PAGES = 1000
#: The tables every store has had since its first version (a file without them is damaged).
_TABLES = {"events", "meta"}
#: The meta key the sync agent polls: set by :meth:`Store.request_sync`.
SYNC_REQUESTED = "sync_requested_at"


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


@retry(retry=retry_if_exception(_locked), stop=stop_after_delay(BUSY_TIMEOUT_MS / 1000),
       wait=wait_random(0.005, 0.05), reraise=True)
def _set_wal(conn: sqlite3.Connection) -> None:
    """WAL mode. Switching a new file needs its exclusive lock, and SQLite answers "locked" at once,
    without waiting on busy_timeout, when another process (kiosk and sync agent start together) is
    switching it too: tried again for up to the busy timeout."""
    conn.execute("PRAGMA journal_mode = WAL")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as kept in the outbox: its order number, id, type and protocol JSON."""

    seq: int
    id: str
    type: str
    body: str

    def payload(self) -> dict:
        return json.loads(self.body)


def _is_unavailable(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and any(m in text for m in _UNAVAILABLE)


def _as_store_error(path: Path, exc: sqlite3.Error, doing: str) -> StoreError:
    if _is_unavailable(exc):
        return StoreUnavailable(f"{path}: cannot {doing} the store: {exc}")
    return StoreError(f"{path}: {exc}")


class Store:
    """The outbox of presses and follow-ups plus a little device state (``meta``).

    ``path`` is the SQLite file (created whole, with its directory, when missing). ``synchronous`` is
    ``FULL`` by default; benchmarks may compare ``NORMAL``. Raises StoreUnavailable when the disk is
    full or read-only. A damaged file is moved aside and replaced (``recovery`` says so).
    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", check: bool = True,
                 boot_id: str | None = None):
        self.path = Path(path)
        self.synchronous = synchronous
        #: ``PRAGMA quick_check`` runs at the first open of each boot (``boot_id``, default the kernel's):
        #: it reads the whole file (seconds for a large store on an SD card), and corruption comes from
        #: power loss, i.e. a new boot, not from a process restart. ``check=False`` skips it. While
        #: running, the background thread checks every 10 minutes (``kiosk.checkpoint``).
        self.boot_id = boot_id or read_boot_id()
        self._lock = threading.RLock()
        #: The last time this Store moved a damaged file aside (None: never).
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
            if not self._release_reserve():
                raise
            self._conn = self._open(check=check)
        self._ensure_reserve()
        self._salvage()

    @classmethod
    def read_only(cls, path: str | Path) -> Store:
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
                tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            except sqlite3.DatabaseError as exc:
                if not recovery.is_corruption(exc):
                    raise _as_store_error(self.path, exc, "read") from exc
                problem = str(exc)
            else:
                problem = None if tables >= _TABLES else "the file has no outbox tables"
            if problem:
                self._conn.close()
        if problem:
            raise StoreCorrupt(f"{self.path}: the store is damaged: {problem}")
        self._ino, self._size = self._stat()
        return self

    # ------------------------------------------------------------------ opening

    def _connect(self, wal: bool = True) -> sqlite3.Connection:
        """A connection to the existing file (never creating one: a missing file raises). ``wal``
        False leaves the journal mode alone (a file not yet checked is not changed)."""
        conn = sqlite3.connect(recovery.uri(self.path, "rw"), uri=True, isolation_level=None,
                               check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if wal:
                _set_wal(conn)
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            # checkpoints normally run off the press path (kiosk.checkpoint); SQLite's own is the safety
            # net for a sustained burst of writes that never leaves the background checkpoint a quiet moment
            conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Build a fresh store in ``conn`` (a new, empty file): WAL, the schema, this boot's check.
        No fsync per step: ``recovery.create`` fsyncs the finished file once before it links it in."""
        conn.execute("PRAGMA synchronous = OFF")
        _set_wal(conn)
        migrations.migrate(conn)
        self._mark_checked(conn)

    def _create(self) -> None:
        """Create the missing store file whole (``kiosk.recovery.create``); call under the lock."""
        try:
            recovery.create(self.path, self._prepare)
        except sqlite3.Error as exc:
            raise _as_store_error(self.path, exc, "create") from exc

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
                    problem = self._check(conn, check)
                    if problem is None:
                        _set_wal(conn)
                        migrations.migrate(conn)
                        self._ino, self._size = seen
                        return conn
                except sqlite3.DatabaseError as exc:
                    if not recovery.is_corruption(exc):
                        if conn is not None:
                            conn.close()
                        if not self.path.exists():
                            continue  # moved aside by the other process just now
                        raise _as_store_error(self.path, exc, "open") from exc
                    problem = str(exc)
            with recovery.locked(self.path):
                if self._same_file(seen[0]):
                    return self._recover(problem, conn)
            if conn is not None:  # the other process replaced it meanwhile: open the new one
                conn.close()
        raise StoreUnavailable(f"{self.path}: the store file keeps being replaced; cannot open it")

    def _check(self, conn: sqlite3.Connection, check: bool) -> str | None:
        """What is wrong with an open store file (no tables, failed quick_check), or None."""
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables >= _TABLES:
            return "the file has no outbox tables"
        if check and self._needs_check(conn):
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                return f"quick_check: {result}"
            self._mark_checked(conn)
        return None

    def _needs_check(self, conn: sqlite3.Connection) -> bool:
        """True unless this boot's quick_check already passed (meta ``quick_check``)."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'quick_check'").fetchone()
        try:
            return not row or json.loads(row[0]).get("boot_id") != self.boot_id
        except (ValueError, AttributeError):
            return True

    def _mark_checked(self, conn: sqlite3.Connection) -> None:
        value = json.dumps({"boot_id": self.boot_id, "at": format_ts(utcnow()), "result": "ok"})
        try:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('quick_check', ?)", (value,))
        except sqlite3.OperationalError as exc:  # a full disk: check again next time, nothing lost
            log.warning("%s: could not note the passed integrity check: %s", self.path, exc)

    def _stat(self) -> tuple[int, int]:
        st = os.stat(self.path)
        return st.st_ino, st.st_size

    def _same_file(self, ino: int) -> bool:
        try:
            return os.stat(self.path).st_ino == ino
        except FileNotFoundError:
            return False

    # ------------------------------------------------------------------ damage and recovery

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
        """Start salvaging moved-aside files not salvaged yet (``kiosk.salvage``), on a thread."""
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
        unsent events). ``events`` are tuples of ``kiosk.salvage.EVENT_COLUMNS`` (they get new order
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

    def _stop_checkpointer(self, wait: bool = False) -> None:
        """Let the background thread go (its connection is on the file being left); ``wait`` for it."""
        if self._checkpointer is not None:
            self._checkpointer.stop(wait)
            self._checkpointer = None

    def _release_reserve(self) -> bool:
        return reserve.release(self.path)

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

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
                if _is_unavailable(exc):
                    released = "full" in str(exc).lower() and self._release_reserve()
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

    # ------------------------------------------------------------------ the outbox

    def append(self, event: Response | Followup) -> int:
        """Commit one event durably; return its order number. Raises StoreUnavailable on a full disk.

        Appending an id that is already stored is a no-op returning the stored number.
        """
        return self.append_many([event])[0]

    def append_many(self, events: Iterable[Response | Followup]) -> list[int]:
        """Commit several events in one transaction (simulator, replays); same rules as ``append``."""
        now = format_ts(utcnow())
        rows = [_row(e, now) for e in events]
        seqs: list[int] = []
        with self._write() as conn:
            for row in rows:
                cur = conn.execute(
                    "INSERT INTO events (id, type, body, response_id, kind, mood, scale, flags, pressed_at,"
                    " boot_id, uptime_ms, clock_synced, stored_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (id) DO NOTHING",
                    row,
                )
                if cur.rowcount:
                    seqs.append(cur.lastrowid)
                else:
                    seqs.append(conn.execute("SELECT seq FROM events WHERE id = ?", (row[0],)).fetchone()[0])
        return seqs

    def unsent(self, limit: int = 500, after_seq: int = 0) -> list[StoredEvent]:
        """The oldest unsent events in recording order (at most ``limit``, with seq > ``after_seq``)."""
        rows = self._read(
            "SELECT seq, id, type, body FROM events WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [StoredEvent(*r) for r in rows]

    def mark_sent(self, ids: Iterable[str]) -> int:
        """Mark events delivered (the server answered accepted or duplicate); return how many changed."""
        ids = list(ids)
        if not ids:
            return 0
        now = format_ts(utcnow())
        with self._write() as conn:
            changed = 0
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                changed += conn.execute(
                    f"UPDATE events SET sent_at = ? WHERE sent_at IS NULL AND id IN ({marks})", (now, *chunk)
                ).rowcount
        return changed

    def quarantine(self, id: str, reason: str) -> bool:
        """Move an unsent event the server rejected into quarantine with the reason (never deleted)."""
        now = format_ts(utcnow())
        with self._write() as conn:
            row = conn.execute("SELECT seq, id, type, body FROM events WHERE id = ? AND sent_at IS NULL", (id,)).fetchone()
            if row is None:
                return False
            self._insert_quarantined(conn, *row, reason[:500], now)
            conn.execute("DELETE FROM events WHERE id = ?", (id,))
        return True

    def quarantined(self) -> list[dict]:
        rows = self._read("SELECT id, type, reason, quarantined_at FROM quarantine ORDER BY seq")
        return [dict(zip(("id", "type", "reason", "quarantined_at"), r, strict=True)) for r in rows]

    def pending_count(self) -> int:
        return self._read("SELECT count(*) FROM events WHERE sent_at IS NULL")[0][0]

    def oldest_pending_age(self, now: datetime | None = None) -> float | None:
        """Seconds since the oldest unsent event was stored, or None when nothing is pending."""
        row = self._read("SELECT stored_at FROM events WHERE sent_at IS NULL ORDER BY seq LIMIT 1")
        if not row:
            return None
        return max(0.0, ((now or utcnow()) - parse_ts(row[0][0])).total_seconds())

    def quarantined_count(self) -> int:
        return self._read("SELECT count(*) FROM quarantine")[0][0]

    def max_seq(self) -> int:
        return self._read("SELECT coalesce(max(seq), 0) FROM events")[0][0]

    def get(self, id: str) -> dict | None:
        """An event's protocol payload by id (from the outbox or quarantine), or None."""
        row = self._read("SELECT body FROM events WHERE id = ? UNION ALL SELECT body FROM quarantine WHERE id = ?", (id, id))
        return json.loads(row[0][0]) if row else None

    def all_ids(self) -> list[str]:
        """Every stored event id in recording order (tests and audits)."""
        return [r[0] for r in self._read("SELECT id FROM events ORDER BY seq")]

    # ------------------------------------------------------------------ capture support

    def last_counted_response(self) -> dict | None:
        """The newest response without flags (for the response interval after a restart)."""
        row = self._read(
            "SELECT body FROM events WHERE type = 'response' AND flags = '' ORDER BY seq DESC LIMIT 1"
        )
        return json.loads(row[0][0]) if row else None

    def counts_between(self, start: datetime, end: datetime) -> tuple[dict[int, int], int, int]:
        """Counted presses per mood, the filtered count and the scale, for ``start <= pressed_at < end``.

        A response voided by a ``void`` follow-up (maintenance gesture) counts as filtered.
        """
        rows = self._read(
            """
            SELECT e.mood, e.scale, e.flags != '' OR EXISTS (
                       SELECT 1 FROM events v WHERE v.type = 'followup' AND v.kind = 'void' AND v.response_id = e.id
                   ) AS filtered, count(*)
            FROM events e
            WHERE e.type = 'response' AND e.pressed_at >= ? AND e.pressed_at < ?
            GROUP BY e.mood, e.scale, filtered
            """,
            (format_ts(start), format_ts(end)),
        )
        counts: dict[int, int] = {}
        filtered = 0
        scale = 4
        for mood, sc, is_filtered, n in rows:
            if is_filtered:
                filtered += n
            else:
                counts[mood] = counts.get(mood, 0) + n
                scale = sc
        return counts, filtered, scale

    def today_counts(self, tz: str, now: datetime | None = None) -> tuple[dict[int, int], int, int]:
        """``counts_between`` for the local day of ``now`` in the store's IANA time zone ``tz``."""
        tzinfo = zone(tz)
        local = (now or utcnow()).astimezone(tzinfo)
        start = datetime.combine(local.date(), datetime.min.time(), tzinfo)
        end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo)
        return self.counts_between(start.astimezone(UTC), end.astimezone(UTC))

    def recent_responses(self, since: datetime) -> list[dict]:
        """Payloads of responses pressed at or after ``since`` (local staff-alert evaluation)."""
        rows = self._read(
            "SELECT body FROM events WHERE type = 'response' AND pressed_at >= ? ORDER BY pressed_at",
            (format_ts(since),),
        )
        return [json.loads(r[0]) for r in rows]

    # ------------------------------------------------------------------ clock correction

    def correct_clock(self, boot_id: str, synced_now: datetime, uptime_now_ms: int) -> int:
        """Correct unsent events of boot ``boot_id`` recorded before the clock synced.

        ``corrected = synced_now - (uptime_now - uptime_press)``; the device's original wall clock is
        kept in ``device_pressed_at`` and ``clock_corrected`` marks the change. Already sent events are
        corrected by the server from the heartbeat instead. Returns how many were corrected.
        """
        changed = 0
        with self._write() as conn:
            rows = conn.execute(
                "SELECT seq, body, stored_at FROM events WHERE clock_synced = 0 AND boot_id = ? AND sent_at IS NULL",
                (boot_id,),
            ).fetchall()
            for seq, body, stored_at in rows:
                data = json.loads(body)
                if data.get("clock_corrected") or data.get("uptime_ms") is None:
                    continue
                delta_ms = uptime_now_ms - int(data["uptime_ms"])
                corrected_dt = synced_now - timedelta(milliseconds=delta_ms)
                corrected = format_ts(corrected_dt)
                # stored_at came from the same wrong clock: shift it alike, so the oldest pending age
                # (status, heartbeat) is not "56 years" for a press stored before NTP synced
                shift = corrected_dt - parse_ts(data["pressed_at"])
                stored = format_ts(parse_ts(stored_at) + shift)
                data["device_pressed_at"] = data["pressed_at"]
                data["pressed_at"] = corrected
                data["clock_corrected"] = True
                conn.execute(
                    "UPDATE events SET body = ?, pressed_at = ?, stored_at = ?, clock_synced = 1 WHERE seq = ?",
                    (json.dumps(data, separators=(",", ":")), corrected, stored, seq),
                )
                changed += 1
        return changed

    # ------------------------------------------------------------------ retention and state

    def prune(self, days: int, now: datetime | None = None) -> int:
        """Delete sent events sent more than ``days`` days ago; unsent events are never pruned."""
        cutoff = format_ts((now or utcnow()) - timedelta(days=days))
        with self._write() as conn:
            return conn.execute("DELETE FROM events WHERE sent_at IS NOT NULL AND sent_at < ?", (cutoff,)).rowcount

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0][0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        with self._write() as conn:
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def request_sync(self, at: str | None = None) -> None:
        """Ask the sync agent to sync now: it polls ``meta.sync_requested_at`` (the maintenance screen's
        button and the buttons' 15 s hold both end here); never waits for the agent."""
        self.set_meta(SYNC_REQUESTED, at or format_ts(utcnow()))

    def integrity_check(self) -> str:
        return self._read("PRAGMA integrity_check")[0][0]

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


def _row(event: Response | Followup, stored_at: str) -> tuple:
    body = event.model_dump_json(exclude_defaults=False)
    if isinstance(event, Response):
        return (event.id, "response", body, None, None, event.mood, event.scale, ",".join(event.flags),
                format_ts(event.pressed_at), event.boot_id, event.uptime_ms, int(event.clock_synced), stored_at)
    kind = event.kind.value if isinstance(event.kind, FollowupKind) else str(event.kind)
    return (event.id, "followup", body, event.response_id, kind, None, None, "", format_ts(event.pressed_at),
            event.boot_id, event.uptime_ms, int(event.clock_synced), stored_at)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


from kiosk.deferred import DeferredStore, open_store  # noqa: E402  (kept importable from here)

__all__ = ["AUTOCHECKPOINT_PAGES", "CHECKPOINT_EVERY", "RESERVE_BYTES", "DeferredStore", "Recovery", "Store",
           "StoredEvent", "open_store"]
