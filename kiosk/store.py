"""The device's local store: one SQLite file shared by the kiosk and sync processes.

WAL lets the kiosk write while the sync agent reads; ``synchronous=FULL`` makes a returned
``append`` durable across power loss, so a press is committed before the customer is thanked.
Each process opens its own ``Store``; one ``Store`` is safe to use from several threads (gpiozero
callbacks, Kivy's main thread) because every statement runs under its lock.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random

from hymy.errors import StoreCorrupt, StoreError, StoreUnavailable
from hymy.hours import zone
from hymy.timestamps import format_ts, parse_ts, utcnow
from kiosk import migrations
from kiosk.clock import read_boot_id
from sync.protocol import Followup, FollowupKind, Response

log = logging.getLogger(__name__)

#: SQLite messages that mean "cannot write now, try again later" rather than a bug.
_UNAVAILABLE = ("disk is full", "readonly database", "disk i/o error", "unable to open database", "database is locked")
BUSY_TIMEOUT_MS = 5000

#: Commits between background WAL checkpoints (about 4 pages each: ~400 pages, under SQLite's 1000).
CHECKPOINT_EVERY = 100
#: Seconds between checkpoints when few presses come in (an idle WAL is folded back eventually).
CHECKPOINT_IDLE_S = 60.0
#: SQLite's in-COMMIT checkpoint threshold, in WAL pages (its default, 1000). With presses seconds
#: apart the background checkpoint keeps the WAL far below it; only a sustained burst reaches it.
#: (A higher threshold was tried: a WAL that grows instead of restarting makes every fsync slower,
#: p50 0.23 -> 0.40 ms here, because the file's size changes with each commit.)
AUTOCHECKPOINT_PAGES = 1000
#: Bytes kept in reserve next to the store (``.<name>.reserve``) and released when the disk is full,
#: so a full disk still lets the store open (its -shm needs 32 KiB) and take a few hundred presses.
RESERVE_BYTES = 4 * 2**20


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


@dataclass(frozen=True, slots=True)
class Recovery:
    """A corrupt store that was moved aside at start."""

    moved_to: str
    at: str
    detail: str


def _is_corrupt(exc: sqlite3.Error) -> bool:
    """SQLITE_CORRUPT / SQLITE_NOTADB met while running (not at open)."""
    text = str(exc).lower()
    return not isinstance(exc, sqlite3.OperationalError) and ("malformed" in text or "not a database" in text)


def _is_unavailable(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and any(m in text for m in _UNAVAILABLE)


class _Checkpointer:
    """Folds the WAL back into the database on its own thread and connection.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses 1000 WAL pages, i.e. inside
    some customer's press: copying 4 MB and two fsyncs, a latency spike of hundreds of milliseconds
    on an SD card every few hundred presses. This thread runs ``wal_checkpoint(PASSIVE)`` every
    ``CHECKPOINT_EVERY`` commits instead, which never blocks a writer; the next press after a complete
    checkpoint starts the WAL from its beginning, so SQLite's own threshold is never reached in normal
    use and stays only as a safety net for a sustained burst.
    """

    def __init__(self, path: Path, reserve: Callable[[], None] | None = None):
        self.path = path
        self.reserve = reserve
        #: Checkpoints completed (tests wait on it).
        self.runs = 0
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=f"checkpoint {path.name}", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop:
                self._wake.wait(CHECKPOINT_IDLE_S)
                self._wake.clear()
                if self._stop:
                    break
                try:
                    if conn is None:
                        conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                    if self.reserve is not None:
                        self.reserve()  # put the disk-full reserve back once there is room again
                except sqlite3.Error as exc:  # disk full, file replaced...: the WAL just grows until next time
                    log.debug("%s: background checkpoint failed: %s", self.path, exc)
                    if conn is not None:
                        conn.close()
                        conn = None
        finally:
            if conn is not None:
                conn.close()


class Store:
    """The outbox of presses and follow-ups plus a little device state (``meta``).

    ``path`` is the SQLite file (created with its directory). ``synchronous`` is ``FULL`` by default;
    benchmarks may compare ``NORMAL``. Raises StoreUnavailable when the disk is full or read-only.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", check: bool = True,
                 boot_id: str | None = None):
        self.path = Path(path)
        self.synchronous = synchronous
        #: ``PRAGMA quick_check`` runs at the first open of each boot (``boot_id``, default the kernel's):
        #: it reads the whole file (seconds for a large store on an SD card), and corruption comes from
        #: power loss, i.e. a new boot, not from a process restart. ``check=False`` skips it.
        self.boot_id = boot_id or read_boot_id()
        self._lock = threading.RLock()
        self.recovery: Recovery | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._commits = 0
        self._checkpointer: _Checkpointer | None = None
        self.reserve_path = self.path.with_name(f".{self.path.name}.reserve")
        try:
            self._conn = self._open(check=check)
        except StoreUnavailable:
            if not self._release_reserve():
                raise
            self._conn = self._open(check=check)
        self._ino = os.stat(self.path).st_ino
        self._ensure_reserve()

    # ------------------------------------------------------------------ opening and recovery

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        self._opening = conn  # closed by _open's error path (after a corrupt file was moved aside)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _set_wal(conn)
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        # checkpoints normally run off the press path (_Checkpointer); SQLite's own is the safety net
        # for a sustained burst of writes that never leaves the background checkpoint a quiet moment
        conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        self._opening = None
        return conn

    def _open(self, check: bool) -> sqlite3.Connection:
        self._opening = None
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connect()
            checked = check and self._needs_check(conn)
            if checked:
                result = conn.execute("PRAGMA quick_check").fetchone()[0]
                if result != "ok":
                    raise sqlite3.DatabaseError(f"quick_check: {result}")
            migrations.migrate(conn)
            if checked:
                self._mark_checked(conn)
            return conn
        except sqlite3.DatabaseError as exc:
            # Never leave a handle open on a file we give up on (it would keep a read-only or full
            # file system busy); a corrupt file's handle is closed only after the file was moved
            # aside, because closing the last connection may delete its -wal (evidence).
            stale = conn or self._opening
            self._opening = None
            if _is_unavailable(exc) or (isinstance(exc, sqlite3.OperationalError) and "no such" not in str(exc)):
                if stale is not None:
                    stale.close()
                if _is_unavailable(exc):
                    raise StoreUnavailable(f"{self.path}: cannot open the store: {exc}") from exc
                raise StoreError(f"{self.path}: {exc}") from exc
            return self._recover(str(exc), stale)

    def _needs_check(self, conn: sqlite3.Connection) -> bool:
        """True unless this boot's quick_check already passed (meta ``quick_check``)."""
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'quick_check'").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return True
            raise
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

    def _recover(self, detail: str, stale: sqlite3.Connection | None = None) -> sqlite3.Connection:
        """Move a corrupt file (and its -wal/-shm) aside with a timestamped name; start a fresh store.

        ``stale`` is the failed connection to the corrupt file, closed once the files are moved."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        moved = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while any(Path(str(moved) + sfx).exists() for sfx in ("", "-wal", "-shm")):  # never overwrite evidence
            n += 1
            moved = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    shutil.move(src, Path(str(moved) + suffix))
        except OSError as exc:
            raise StoreUnavailable(
                f"{self.path}: the store is corrupt ({detail}) and cannot be moved aside: {exc.strerror or exc}"
            ) from exc
        finally:
            if stale is not None:
                stale.close()
        log.error("store %s failed its integrity check (%s); moved aside to %s and started a fresh one",
                  self.path, detail, moved)
        conn = self._connect()
        migrations.migrate(conn)
        self._mark_checked(conn)
        self.recovery = Recovery(str(moved), format_ts(utcnow()), detail)
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('recovered', ?)",
            (json.dumps({"moved_to": str(moved), "at": self.recovery.at, "detail": detail}),),
        )
        return conn

    def close(self) -> None:
        """Close the connection (the last one to close folds the WAL back and removes it)."""
        with self._lock:
            if self._checkpointer is not None:
                self._checkpointer.stop()
                self._checkpointer = None
            self._conn.close()

    def _release_reserve(self) -> bool:
        """Delete the reserve file (the disk is full); True when there was one to free."""
        try:
            size = self.reserve_path.stat().st_size
            self.reserve_path.unlink()
        except OSError:
            return False
        log.error("%s: the disk is full; released the %d KiB reserve to keep recording. Free some space.",
                  self.path, size // 1024)
        return True

    def _ensure_reserve(self) -> None:
        """Create the reserve when it is missing and the disk has ample room (never fills a disk)."""
        try:
            if self.reserve_path.exists() or shutil.disk_usage(self.path.parent).free < 16 * RESERVE_BYTES:
                return
            fd = os.open(self.reserve_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            return
        try:
            try:
                os.posix_fallocate(fd, 0, RESERVE_BYTES)  # really allocated, not a sparse file
            except (AttributeError, OSError):
                os.write(fd, b"\0" * RESERVE_BYTES)
        except OSError:
            os.close(fd)
            self.reserve_path.unlink(missing_ok=True)
            return
        os.close(fd)

    def checkpoint(self) -> None:
        """Ask for a WAL checkpoint now, off the caller's thread (done by itself every
        ``CHECKPOINT_EVERY`` commits and every ``CHECKPOINT_IDLE_S`` seconds)."""
        with self._lock:
            if self._checkpointer is None:
                self._checkpointer = _Checkpointer(self.path, self._ensure_reserve)
            self._checkpointer.nudge()

    def _committed(self) -> None:
        self._commits += 1
        if self._checkpointer is None:
            self._checkpointer = _Checkpointer(self.path, self._ensure_reserve)
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpointer.nudge()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite's 'disk full'/'read-only' become StoreUnavailable."""
        with self._lock:
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
                if _is_corrupt(exc):
                    raise self._recover_while_running(exc) from exc
                if _is_unavailable(exc):
                    released = "full" in str(exc).lower() and self._release_reserve()
                    hint = "; released the disk reserve, retry now" if released else ""
                    raise StoreUnavailable(f"{self.path}: cannot write: {exc}{hint}") from exc
                raise

    def _read(self, sql: str, params: Iterable = ()) -> list[tuple]:
        params = tuple(params)
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if not _is_corrupt(exc):
                    raise
                self._recover_while_running(exc)
                return self._conn.execute(sql, params).fetchall()

    def _recover_while_running(self, exc: sqlite3.Error) -> StoreCorrupt:
        """The file turned out damaged after it was opened (the per-boot check had passed, or was
        skipped): recover now, as at start, so recording goes on in a fresh file; return the error
        for the caller to raise (the Recorder holds the press and retries into the fresh store)."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        try:
            self._conn = self._recover(f"while running: {exc}", self._conn)
        except StoreError:  # cannot move it aside (read-only directory): keep a connection, say why
            self._conn = self._connect()
            raise
        self._ino = os.stat(self.path).st_ino
        return StoreCorrupt(f"{self.path}: the store was damaged ({exc}); moved aside to "
                            f"{self.recovery.moved_to} and started a fresh one; retry")

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
            conn.execute(
                "INSERT OR REPLACE INTO quarantine (seq, id, type, body, reason, quarantined_at) VALUES (?,?,?,?,?,?)",
                (*row, reason[:500], now),
            )
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

    def integrity_check(self) -> str:
        return self._read("PRAGMA integrity_check")[0][0]

    def replaced_on_disk(self) -> bool:
        """True when another process moved the file aside (corrupt-store recovery); ``reopen`` then."""
        try:
            return os.stat(self.path).st_ino != self._ino
        except FileNotFoundError:
            return True

    def reopen(self) -> None:
        """Close and open the file again (after another process replaced it)."""
        with self._lock:
            if self._checkpointer is not None:  # its connection is on the old file
                self._checkpointer.stop()
                self._checkpointer = None
            self._conn.close()
            self._conn = self._open(check=False)
            self._ino = os.stat(self.path).st_ino


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


class DeferredStore:
    """Stands in for a Store that cannot be opened yet (disk full or read-only at start-up).

    The kiosk keeps showing screens: writes raise StoreUnavailable (the Recorder holds the presses in
    memory and retries), reads answer "nothing yet", and every call first tries to open the real store
    again (at most every ``retry_s`` seconds, default 5). Once it opens, every call goes to it.
    """

    _READS = {"today_counts": ({}, 0, 4), "counts_between": ({}, 0, 4), "last_counted_response": None,
              "recent_responses": [], "get_meta": None, "pending_count": 0, "quarantined_count": 0,
              "oldest_pending_age": None, "unsent": []}

    def __init__(self, path: str | Path, error: Exception, *, retry_s: float = 5.0, **store_kwargs):
        self.path = Path(path)
        self.retry_s = retry_s
        self.error = error
        self._kwargs = store_kwargs
        self._store: Store | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()

    def _real(self) -> Store | None:
        with self._lock:
            if self._store is None and time.monotonic() >= self._next_try:
                self._next_try = time.monotonic() + self.retry_s
                try:
                    self._store = Store(self.path, **self._kwargs)
                    log.warning("store %s opened after all: recording works again", self.path)
                except StoreUnavailable as exc:
                    self.error = exc
            return self._store

    def __getattr__(self, name: str):
        real = self._real()
        if real is not None:
            return getattr(real, name)
        if name in self._READS:
            default = self._READS[name]
            return lambda *a, **k: default
        if name == "close":
            return lambda: None

        def unavailable(*_a, **_k):
            raise StoreUnavailable(f"{self.path}: the store cannot be opened: {self.error}")

        return unavailable


def open_store(path: str | Path, **kwargs) -> Store | DeferredStore:
    """A Store, or a DeferredStore that keeps retrying when the disk is full or read-only right now."""
    try:
        return Store(path, **kwargs)
    except StoreUnavailable as exc:
        log.error("cannot open the store (%s); presses are held in memory and the store is retried", exc)
        return DeferredStore(path, exc, **kwargs)
