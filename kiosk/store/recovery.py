"""The store file on disk: made whole or not at all, checked cheaply, moved aside once when damaged.

A store path either does not exist or holds a complete store: a new one is built under a temporary
name and linked into place (``create``), so a file that exists but is empty or has no tables is never
"a store being made" but damage. Damage is recognised three ways: SQLite reports SQLITE_CORRUPT or
SQLITE_NOTADB (``is_corruption``); the file's first 100 bytes say it is not whole (``inspect``: empty,
not an SQLite file, shorter than its header says); or ``PRAGMA quick_check`` fails. A damaged file is
moved aside with its ``-wal`` and ``-shm`` as ``kiosk.db.corrupt-<UTC stamp>`` (``move_aside``) and a
note ``<that name>.json`` records why and, once ``kiosk.store.salvage`` has read it, what was saved. The
moved files stay as evidence until a person deletes them; ``evidence`` lists them (the heartbeat
counts them).

The kiosk and the sync agent share the file, so deciding to create or to move it aside happens under
one lock (``locked``: ``flock`` on ``.kiosk.db.lock`` next to it); the process that gets the lock second
sees that the file was already replaced and only reopens it. See docs/store.md.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import sqlite3
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_random

from hymy.atomicfile import fsync_dir, write_atomic
from hymy.errors import StoreUnavailable
from hymy.timestamps import format_ts, utcnow

log = logging.getLogger(__name__)

#: The files of one SQLite database in WAL mode.
SUFFIXES = ("", "-wal", "-shm")
#: Seconds to wait for the store lock held by the other process (it creates or moves a file, which takes
#: milliseconds; a minute means something is stuck).
LOCK_TIMEOUT_S = 60.0
_HEADER = b"SQLite format 3\x00"
#: SQLite's primary result codes for a damaged file (the low byte of an extended code).
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


def is_corruption(exc: BaseException) -> bool:
    """True for SQLITE_CORRUPT ("database disk image is malformed") and SQLITE_NOTADB ("file is not a
    database"), judged by SQLite's error code (any extended code), not by the message."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and (code & 0xFF) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def uri(path: Path, mode: str) -> str:
    """An SQLite URI for ``path`` (``sqlite3.connect(..., uri=True)``): ``mode`` ``rw`` opens an existing
    file without ever creating one, ``ro`` reads only; ``ro-quiet`` reads a file no process has open
    (no ``-wal``) without creating a ``-shm`` or ``-wal`` next to it (``immutable``)."""
    query = "mode=ro&immutable=1" if mode == "ro-quiet" else f"mode={mode}"
    return f"file:{quote(str(Path(path).absolute()))}?{query}"


def inspect(path: Path) -> str | None:
    """What is wrong with an existing store file at a glance (reads its first 100 bytes), or None.

    Finds an empty file, one that is not an SQLite database, and one shorter than the page count its
    header vouches for (truncated). The last is judged only while the ``-wal`` is absent or empty: a
    checkpoint writes page 1 (with the new count) before the pages that make the file longer, and a
    power cut between them is repaired from the WAL. Pages that are present but damaged need
    ``PRAGMA quick_check``.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            header = f.read(100)
    except OSError:  # missing, a directory, no permission, an I/O error: not for this check to judge
        return None
    try:
        wal_quiet = os.stat(str(path) + "-wal").st_size == 0
    except OSError:
        wal_quiet = True
    if size == 0:
        return "the file is empty (0 bytes)"
    if len(header) < 100 or not header.startswith(_HEADER):
        return f"the file is not an SQLite database ({size} bytes without an SQLite header)"
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    change, pages, valid_for = struct.unpack(">I", header[24:28])[0], struct.unpack(">I", header[28:32])[0], \
        struct.unpack(">I", header[92:96])[0]
    if page_size < 512 or page_size & (page_size - 1):
        return f"the file's header is damaged (page size {page_size})"
    if wal_quiet and change == valid_for and pages * page_size > size:  # valid only then (SQLite's rule)
        return f"the file is truncated: its header counts {pages * page_size} bytes, the file has {size}"
    return None


# ---------------------------------------------------------------------------------------------- the lock

def lock_path(path: Path, purpose: str = "") -> Path:
    """``.kiosk.db.lock`` (creating or replacing the file) or ``.kiosk.db.<purpose>.lock``."""
    return path.with_name(f".{path.name}.{purpose + '.' if purpose else ''}lock")


class _Busy(OSError):
    pass


@retry(retry=retry_if_exception_type(_Busy), stop=stop_after_delay(LOCK_TIMEOUT_S), wait=wait_random(0.005, 0.05),
       reraise=True)
def _flock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _Busy from None


@contextmanager
def locked(path: Path, purpose: str = "", *, wait: bool = True) -> Iterator[bool]:
    """Hold one of the store's locks (``flock`` on ``lock_path(path, purpose)``); yields True.

    The default lock is held while creating or replacing the file. Not re-entrant: a second ``locked``
    of the same lock in the same thread waits for itself. With ``wait=False`` it yields False at once
    when another holds it. Raises StoreUnavailable when the lock file cannot be made, or the lock is
    held by another for LOCK_TIMEOUT_S.
    """
    where = lock_path(path, purpose)
    try:
        fd = os.open(where, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StoreUnavailable(f"{path}: cannot open the store's lock file {where}: {exc.strerror or exc}") from exc
    try:
        try:
            _flock(fd) if wait else fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except _Busy:
            raise StoreUnavailable(f"{path}: another process held {where} for {LOCK_TIMEOUT_S:.0f} s") from None
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


# ---------------------------------------------------------------------------------------------- creation

def _temp_prefix(path: Path) -> str:
    return f".{path.name}.new-"


def create(path: Path, prepare: Callable[[sqlite3.Connection], None]) -> bool:
    """Make a complete store at ``path`` or nothing: ``prepare(conn)`` builds it in a temporary file
    next to it (``.kiosk.db.new-<pid>``), which is closed, fsynced and hard-linked into place. Call
    under ``locked``.

    Returns False when ``path`` existed already (another process was first; its file is kept). SQLite's
    errors (disk full, read-only) propagate; the temporary file is removed either way.
    """
    tmp = path.with_name(f"{_temp_prefix(path)}{os.getpid()}")
    _remove(tmp)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            prepare(conn)
        finally:
            conn.close()  # folds the WAL into the file and removes it: the file alone is the store
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # never replaces a file that is there
        except FileExistsError:
            return False
        except OSError as exc:  # a file system without hard links: rename (safe under ``locked``)
            if path.exists():
                return False
            try:
                os.rename(tmp, path)
            except OSError:
                raise StoreUnavailable(f"{path}: cannot create the store: {exc.strerror or exc}") from exc
        fsync_dir(path.parent)
        return True
    finally:
        _remove(tmp)


def remove_leftovers(path: Path) -> None:
    """Delete temporary stores a killed process left half made (call under ``locked``)."""
    for stale in path.parent.glob(f"{_temp_prefix(path)}*"):
        _remove(stale)


def _remove(tmp: Path) -> None:
    for suffix in SUFFIXES:
        Path(str(tmp) + suffix).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- evidence

@dataclass(frozen=True, slots=True)
class Recovery:
    """A damaged store that was moved aside: where to, when (RFC 3339 UTC) and why."""

    moved_to: str
    at: str
    detail: str


def evidence(path: Path) -> list[Path]:
    """The moved-aside stores of ``path`` (main files only), oldest first."""
    pattern = re.compile(re.escape(path.name) + r"\.corrupt-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?")
    found = []
    try:
        for p in path.parent.iterdir():
            m = pattern.fullmatch(p.name)
            if m:
                found.append(((m["stamp"], int(m["n"] or 1)), p))
    except OSError:
        return []
    return [p for _, p in sorted(found)]


def note_path(moved: Path) -> Path:
    """The JSON note next to a moved-aside store: why it was moved and what was salvaged."""
    return moved.with_name(moved.name + ".json")


def read_note(moved: Path) -> dict:
    """The note of a moved-aside store (``{}`` when missing or unreadable)."""
    try:
        doc = json.loads(note_path(moved).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def write_note(moved: Path, note: dict) -> None:
    """Replace the note of a moved-aside store (atomically); a full disk only logs (the evidence stays)."""
    try:
        write_atomic(note_path(moved), json.dumps(note, indent=1, sort_keys=True) + "\n", mode=0o644)
    except OSError as exc:
        log.warning("%s: cannot write the recovery note: %s", moved, exc)


def move_aside(path: Path, detail: str) -> Recovery:
    """Move a damaged store and its -wal/-shm to ``<name>.corrupt-<UTC stamp>`` (``-2``, ``-3``... when
    that name is taken: evidence is never overwritten), note why, and log it as an error.

    Call under ``locked``. Raises StoreUnavailable when the files cannot be moved (read-only directory).
    """
    now = utcnow()
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    moved = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while any(Path(str(moved) + sfx).exists() for sfx in (*SUFFIXES, ".json")):
        n += 1
        moved = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    try:
        for suffix in SUFFIXES:
            src = Path(str(path) + suffix)
            if src.exists():
                shutil.move(src, Path(str(moved) + suffix))
    except OSError as exc:
        raise StoreUnavailable(
            f"{path}: the store is damaged ({detail}) and cannot be moved aside: {exc.strerror or exc}"
        ) from exc
    fsync_dir(path.parent)
    recovery = Recovery(str(moved), format_ts(now), detail)
    write_note(moved, {"moved_to": recovery.moved_to, "at": recovery.at, "detail": detail, "salvage": "pending"})
    log.error("store %s is damaged (%s); moved aside to %s and started a fresh one; its readable rows are "
              "copied into the fresh store", path, detail, moved)
    return recovery
