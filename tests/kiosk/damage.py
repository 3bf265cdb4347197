"""Real damaged store files for the recovery and salvage tests: garbage written over known pages."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from hymy.protocol import default_store_config
from hymy.timestamps import utcnow
from kiosk.capture import build_response
from kiosk.clock import ClockReading
from kiosk.store import Store

CONFIG = default_store_config()
PAGE = 4096


def presses(n: int, boot: str = "boot-a") -> list:
    now = utcnow()
    return [build_response(1 + i % 4, "button", ClockReading(now, True, boot, 1000 + i), CONFIG, []) for i in range(n)]


def filled_store(path: Path, n: int = 1500, *, sent: int = 0) -> list[str]:
    """A closed store of ``n`` presses (the first ``sent`` marked sent), its WAL folded in; their ids."""
    events = presses(n)
    with Store(path) as store:
        store.append_many(events)
        store.mark_sent([e.id for e in events[:sent]])
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return [e.id for e in events]


def pages_of(path: Path, table: str, kind: str = "leaf") -> list[tuple[int, int]]:
    """(page number, cells) of the ``kind`` pages of ``table``'s b-tree (SQLite's dbstat)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT pageno, ncell FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno",
                            (table, kind)).fetchall()


def garbage(path: Path, pages: list[int], seed: int = 14) -> None:
    """Write random bytes over whole pages (1-based page numbers) of the file."""
    rng = random.Random(seed)
    with open(path, "r+b") as f:
        for page in pages:
            f.seek((page - 1) * PAGE)
            f.write(rng.randbytes(PAGE))


def moved_aside(directory: Path, name: str = "kiosk.db") -> list[Path]:
    return sorted(p for p in directory.glob(f"{name}.corrupt-*") if not p.name.endswith(("-wal", "-shm", ".json")))
