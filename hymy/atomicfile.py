"""Atomic file replacement: readers see the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes | str, *, mode: int | None = None,
                 owner: tuple[int, int] | None = None, sync_dir: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically.

    A temporary file in the same directory (``.<name>.*.tmp``) is written, flushed, fsynced and renamed
    over ``path``; on any error it is removed and the error re-raised. ``str`` is written as UTF-8.
    ``mode`` (default None = mkstemp's 0600) is set on the temporary file before the first byte, ``owner``
    (uid, gid; default None = unchanged) likewise. ``sync_dir`` (default False) also fsyncs the directory
    so the rename itself survives a power cut. Missing parent directories are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, *owner)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """fsync a directory so renames in it are durable; errors are ignored (not every filesystem allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
