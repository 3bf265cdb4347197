"""The disk-full reserve: a really allocated file next to the store, given up when the disk is full.

SQLite deletes the ``-wal`` and ``-shm`` files when the last connection closes, and re-creating the
32 KiB ``-shm`` on a full disk fails, so a store could not even open. The reserve (``.kiosk.db.reserve``,
``RESERVE_BYTES``) is deleted when a write or an open fails for lack of space: a few hundred presses of
room while someone frees space. It is made again once the disk has ample room (see docs/store.md).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger("kiosk.store")

#: Bytes kept in reserve next to the store (``.<name>.reserve``) and released when the disk is full,
#: so a full disk still lets the store open (its -shm needs 32 KiB) and take a few hundred presses.
RESERVE_BYTES = 4 * 2**20


def reserve_path(store: Path) -> Path:
    return store.with_name(f".{store.name}.reserve")


def release(store: Path) -> bool:
    """Delete the reserve of ``store`` (the disk is full); True when there was one to free."""
    path = reserve_path(store)
    try:
        size = path.stat().st_size
        path.unlink()
    except OSError:
        return False
    log.error("%s: the disk is full; released the %d KiB reserve to keep recording. Free some space.",
              store, size // 1024)
    return True


def ensure(store: Path) -> None:
    """Create the reserve when it is missing and the disk has ample room (at least 16 times its size
    free: it never fills a disk)."""
    path = reserve_path(store)
    try:
        if path.exists() or shutil.disk_usage(store.parent).free < 16 * RESERVE_BYTES:
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return
    try:
        try:
            os.posix_fallocate(fd, 0, RESERVE_BYTES)  # really allocated, not a sparse file
        except (AttributeError, OSError):
            os.write(fd, b"\0" * RESERVE_BYTES)
    except OSError:
        os.close(fd)
        path.unlink(missing_ok=True)
        return
    os.close(fd)
