"""Salvage: every readable row of a moved-aside (damaged) store goes into the fresh one.

Python's sqlite3 has no recover API (the sqlite3 shell's ``.recover`` reads b-tree pages itself), so a
table is read in order of its rowids, ``CHUNK`` rows per query. When a query meets a damaged page
(SQLITE_CORRUPT), the reader looks for the next rowid it can reach again (probing ever further ahead),
then splits the skipped stretch in halves, and halves again where a half still fails, until the
damaged rows stand alone: they are skipped, the rest is kept. An event is kept only if its body is a
valid protocol event with its own id (a damaged row may still look like a row). How many rows could
not be read is the table's row count, as any of its intact indexes still tells it, minus the rows
read; it is unknown (None) when no index can count.

What this cannot save: rows only reachable through a damaged interior page whose stretch is wider than
``MAX_STRETCH`` rowids, and everything when the schema page (page 1) is unreadable. The moved-aside
file stays for a person with the sqlite3 shell's ``.recover``.

Pure over two handles: ``source`` (a connection to the damaged file) and ``absorb`` (the fresh store's
``Store.absorb``); it never writes to the damaged file. See docs/store.md.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from hymy.protocol import Event
from hymy.timestamps import format_ts, utcnow
from kiosk.store import recovery
from kiosk.store.recovery import is_corruption

log = logging.getLogger(__name__)

#: Rows per query (and per transaction into the fresh store).
CHUNK = 256
#: Widest stretch of rowids that is split in halves to find its readable rows (wider: counted lost).
MAX_STRETCH = 1 << 20
#: The outbox's columns besides ``seq`` (salvaged events get new order numbers, in their old order).
EVENT_COLUMNS = ("id", "type", "body", "response_id", "kind", "mood", "scale", "flags", "pressed_at", "boot_id",
                 "uptime_ms", "clock_synced", "stored_at", "sent_at")
QUARANTINE_COLUMNS = ("seq", "id", "type", "body", "reason", "quarantined_at")
#: Meta keys that describe the damaged file itself, not the device: not carried over.
SKIP_META = frozenset({"quick_check", "recovered"})
_EVENT = TypeAdapter(Event)


@dataclass
class SalvageResult:
    """What a salvage did. Counts are rows (events and quarantined events; meta keys are not counted)."""

    read: int = 0  #: rows read intact from the damaged file
    added: int = 0  #: of which were not in the fresh store yet (the rest were there already)
    unsent: int = 0  #: of the added events, not yet delivered: the sync agent sends them
    unreadable: int | None = 0  #: rows the file held but could not be read; None: unknown
    error: str | None = None  #: why nothing could be read, when that is so

    def as_dict(self) -> dict:
        return asdict(self)


class _Table:
    """Reads one table of the damaged file by rowid, skipping what is damaged; counts what it skipped."""

    def __init__(self, conn: sqlite3.Connection, table: str, columns: tuple[str, ...]):
        self.conn = conn
        self.table = table
        self.select = f"SELECT rowid, {', '.join(columns)} FROM {table}"
        self.failed = 0  # queries that met damage

    def _query(self, where: str, params: tuple, limit: int | None = None) -> list[tuple] | None:
        """The rows, or None when the query met a damaged page."""
        tail = f" LIMIT {int(limit)}" if limit else ""
        try:
            return self.conn.execute(f"{self.select} WHERE {where} ORDER BY rowid{tail}", params).fetchall()
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise
            self.failed += 1
            return None

    def chunks(self, stop: threading.Event | None = None) -> Iterator[list[tuple]]:
        """Lists of readable rows ``(rowid, *columns)``, in rowid order.

        Reads ``CHUNK`` rows from ``start`` on; a read that fails is tried with half as many rows, down
        to one; when even the next row cannot be reached, ``_reach`` finds where reading works again and
        the stretch in between is split up (``_stretch``). Every turn reads a row or moves past one."""
        start, limit = 1, CHUNK  # rowids of the store's tables start at 1
        while stop is None or not stop.is_set():
            rows = self._query("rowid >= ?", (start,), limit)
            if rows:
                yield rows
                start, limit = rows[-1][0] + 1, CHUNK
            elif rows is not None:  # the end of the table
                return
            elif limit > 1:
                limit //= 2
            else:
                end = self._reach(start)
                if end is None:
                    return
                yield from self._stretch(start, end - 1)
                start = end

    def _reach(self, start: int) -> int | None:
        """The first of ``start`` + 1, 2, 4, 8... rowids from which one row can be read again (or the
        table is seen to end), or None when nothing after ``start`` can be reached."""
        step = 1
        while start + step < (1 << 63) - 1:
            if self._query("rowid >= ?", (start + step,), 1) is not None:
                return start + step
            step *= 2
        return None

    def _stretch(self, lo: int, hi: int) -> Iterator[list[tuple]]:
        """Readable rows with ``lo <= rowid <= hi``, halving ranges that fail down to single rowids."""
        if hi - lo + 1 > MAX_STRETCH:
            log.warning("%s: rowids %d..%d sit under a damaged page; too many to probe one by one", self.table, lo, hi)
            return
        pending = [(lo, hi)]
        while pending:
            a, b = pending.pop()
            rows = self._query("rowid BETWEEN ? AND ?", (a, b))
            if rows is not None:
                if rows:
                    yield rows
            elif a < b:
                mid = (a + b) // 2
                pending += [(mid + 1, b), (a, mid)]  # the lower half first: rows stay in order

    def known_rows(self) -> int | None:
        """The table's row count as its intact b-trees tell it (the largest answer), or None."""
        counts = []
        try:
            names = [r[1] for r in self.conn.execute(f"PRAGMA index_list({self.table})") if not r[4]]  # not partial
        except sqlite3.DatabaseError:
            names = []
        for using in ("NOT INDEXED", *(f'INDEXED BY "{n}"' for n in names)):
            try:
                counts.append(self.conn.execute(f"SELECT count(*) FROM {self.table} {using}").fetchone()[0])
            except sqlite3.DatabaseError:
                continue
        return max(counts) if counts else None


def _valid(id: str, type: str, body: str) -> bool:
    """A stored body that is a protocol event of that type with that id."""
    try:
        event = _EVENT.validate_json(body)
    except (ValidationError, ValueError, TypeError):
        return False
    return event.id == id and event.type == type


def salvage(source: sqlite3.Connection, absorb: Callable[..., tuple[int, int]],
            stop: threading.Event | None = None) -> SalvageResult:
    """Copy every readable event, quarantined event and meta key of ``source`` (the damaged file) into
    the fresh store through ``absorb(events=[...], quarantine=[...], meta=[...]) -> (added, unsent)``,
    one chunk per call. ``stop`` ends it early (the result then counts what was done)."""
    result = SalvageResult()
    try:
        tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        result.unreadable = None
        result.error = f"the file cannot be read at all: {exc}"
        return result
    if "events" not in tables:  # an empty or overwritten file: what it held cannot even be counted
        result.unreadable = None
        result.error = "the file has no outbox table left"
        return result
    unknown = False
    for table, columns in (("events", EVENT_COLUMNS), ("quarantine", QUARANTINE_COLUMNS)):
        if table not in tables:
            continue
        reader = _Table(source, table, columns)
        first = columns.index("id") + 1  # (rowid, *columns): where id, type, body start
        read = invalid = 0
        for rows in reader.chunks(stop):
            good = [r[1:] for r in rows if _valid(*r[first:first + 3])]
            read += len(good)
            invalid += len(rows) - len(good)
            added, unsent = absorb(**{table: good})
            result.added += added
            result.unsent += unsent
        result.read += read
        known = reader.known_rows()
        if known is not None:
            result.unreadable += max(0, known - read)
        elif reader.failed:
            unknown = True
        else:
            result.unreadable += invalid
    if "meta" in tables:
        meta = [r[1:] for rows in _Table(source, "meta", ("key", "value")).chunks(stop) for r in rows
                if r[1] not in SKIP_META]
        absorb(meta=meta)
    if unknown:
        result.unreadable = None
    return result


def open_source(moved: Path) -> sqlite3.Connection:
    """A read-only connection to a moved-aside store (with its moved ``-wal``); never writes to it."""
    return sqlite3.connect(recovery.uri(moved, "ro"), uri=True, isolation_level=None, check_same_thread=False)


class Salvager:
    """Salvages, on its own thread, every moved-aside file of the store at ``path`` whose note does not
    say ``"salvage": "done"``, newest first, into the store through ``absorb`` (``Store.absorb``).

    ``sources`` maps a moved-aside file to a connection to use instead of opening it (the connection
    that was in use when the damage was found: its page cache may still hold pages the file lost);
    each is closed when done. One process salvages at a time (``.kiosk.db.salvage.lock``); if the
    other one holds it, this one leaves the work to it. A salvage cut short (``stop``, a crash) is done
    again from the start at the next open; ids already in the store are skipped, so nothing doubles.
    """

    def __init__(self, path: Path, absorb: Callable[..., tuple[int, int]],
                 sources: dict[Path, sqlite3.Connection] | None = None):
        self.path = path
        self.absorb = absorb
        self.sources = dict(sources or {})
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"salvage {path.name}", daemon=True)

    @staticmethod
    def pending(path: Path) -> list[Path]:
        """Moved-aside files of ``path`` not salvaged yet, newest first."""
        return [m for m in reversed(recovery.evidence(path)) if recovery.read_note(m).get("salvage") != "done"]

    def start(self) -> Salvager:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            with recovery.locked(self.path, "salvage", wait=False) as mine:
                if mine:
                    for moved in self.pending(self.path):
                        if self.stop_event.is_set():
                            break
                        self._one(moved)
        except Exception:  # a store that cannot write now (disk full...): tried again at the next open
            log.exception("salvaging the damaged store of %s failed; tried again at the next start", self.path)
        finally:
            for conn in self.sources.values():
                conn.close()
            self.done.set()

    def _one(self, moved: Path) -> None:
        conn = self.sources.pop(moved, None)
        try:
            conn = conn or open_source(moved)
        except sqlite3.Error as exc:
            result = SalvageResult(unreadable=None, error=f"the file cannot be opened: {exc}")
        else:
            try:
                result = salvage(conn, self.absorb, self.stop_event)
            finally:
                conn.close()
        if self.stop_event.is_set():
            return
        note = recovery.read_note(moved) or {"moved_to": str(moved)}
        note.update(result.as_dict(), salvage="done", salvaged_at=format_ts(utcnow()))
        recovery.write_note(moved, note)
        lost = "an unknown number of" if result.unreadable is None else str(result.unreadable)
        log.error("salvaged %d rows of the damaged store %s (%d new, %d of them not yet sent, which the sync "
                  "agent delivers); %s rows could not be read%s", result.read, moved, result.added, result.unsent,
                  lost, f" ({result.error})" if result.error else "")
