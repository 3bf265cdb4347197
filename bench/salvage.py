"""Damaged-store benchmark: what recovery and salvage cost on a large store. Prints figures only.

A real store of N events (default 100,000; ``--quick`` 20,000), closed, with random bytes written
over three leaf pages of its outbox, is opened as at the next boot. Printed:

- ``quick_check`` of the healthy file (what the per-boot and the 10-minute background check cost);
- the open that finds the damage and moves the file aside (what the kiosk's start-up waits for);
- the background salvage: seconds and rows per second, rows saved and rows lost (which must equal
  the cells of the three pages);
- the per-statement cost of the file check (one ``os.stat``) against a one-row read.

Usage: ``python bench/salvage.py [--quick] [--events N]``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.store import Store, recovery  # noqa: E402
from tests.kiosk.damage import garbage, pages_of, presses  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 events")
    ap.add_argument("--events", type=int, help="events in the store (default 100,000)")
    args = ap.parse_args()
    n = args.events or (20_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory(prefix="hymy-bench-salvage-") as tmp:
        path = Path(tmp) / "kiosk.db"
        with Store(path) as store:
            for k in range(0, n, 5000):
                store.append_many(presses(min(5000, n - k)))
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            t0 = time.perf_counter()
            for _ in range(20_000):
                os.stat(path)
            stat_us = (time.perf_counter() - t0) / 20_000 * 1e6
            t0 = time.perf_counter()
            for _ in range(2_000):
                store._conn.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchall()
            read_us = (time.perf_counter() - t0) / 2_000 * 1e6
        size_mb = path.stat().st_size / 2**20
        with sqlite3.connect(path) as conn:
            t0 = time.perf_counter()
            assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            check_s = time.perf_counter() - t0
        leaves = pages_of(path, "events")
        hit = [leaves[len(leaves) // 5], leaves[len(leaves) // 2], leaves[-3]]
        garbage(path, [p for p, _ in hit])
        t0 = time.perf_counter()
        store = Store(path, boot_id="bench-next-boot")
        open_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.wait_salvaged()
        salvage_s = time.perf_counter() - t0
        note = recovery.read_note(recovery.evidence(path)[-1])
        store.close()
    print(f"store: {n:,} events, {size_mb:.1f} MB")
    print(f"quick_check of the healthy file: {check_s:.2f} s")
    print(f"open that finds the damage and moves the file aside: {open_s:.2f} s (quick_check included)")
    print(f"salvage on its thread: {salvage_s:.2f} s, {note['read'] / salvage_s:,.0f} rows/s; "
          f"saved {note['read']:,}, unreadable {note['unreadable']} (the 3 pages held {sum(c for _, c in hit)})")
    print(f"file check per statement: {stat_us:.1f} us (os.stat) against {read_us:.1f} us for a one-row read")


if __name__ == "__main__":
    main()
