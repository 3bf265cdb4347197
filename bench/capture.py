"""Capture benchmark: press-to-committed latency through ``Recorder.record`` against the floor.

    python bench/capture.py [--quick] [--presses N] [--dir PATH]

Both run in this process, on the same file system, interleaved in rounds so that disk noise hits
both alike:

- **hymy**: ``Recorder.record(mood, "button")`` on a real ``kiosk.store.Store`` (WAL,
  synchronous=FULL), with the real ``SystemClock`` (kernel clock check, boot id, uptime) and the
  real ``StoreConfigCache`` reading a cached store config with opening hours, i.e. exactly what a
  button press does on the kiosk, minus the LEDs;
- **floor**: a bare ``sqlite3`` connection with the same pragmas (WAL, synchronous=FULL) doing one
  ``INSERT`` of a same-sized row per transaction into a one-index table: the physical cost of a
  durable commit;
- **schema**: the same bare ``sqlite3`` insert, but into the store's real table (its indexes and
  AUTOINCREMENT), so the print separates what the schema costs from what the Python layer costs.

Prints p50 / p99 / max in milliseconds for both and the ratio hymy / floor. Target (issue 2):
p99 within 2x of the floor. The figure depends on the disk's fsync: on a Pi's SD card the floor is
milliseconds and the ratio shrinks; on a fast SSD or tmpfs the floor is tiny and Python overhead shows.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import uuid
from pathlib import Path

from timings import latency_table, time_ms  # bench/timings.py: this folder is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
# This file is bench/capture.py: keep its folder off sys.path so imports find the packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from hymy.protocol import default_store_config  # noqa: E402
from kiosk.capture import Recorder  # noqa: E402
from kiosk.clock import SystemClock  # noqa: E402
from kiosk.store import Store  # noqa: E402
from kiosk.storeconfig import StoreConfigCache, write_store_config  # noqa: E402

ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class Floor:
    """A bare sqlite3 insert per transaction with the store's pragmas: the physical floor."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, body TEXT)")
        self.body = json.dumps({"pad": "x" * 330})  # about the size of a response's JSON

    def press(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO events (id, body) VALUES (?, ?)", (str(uuid.uuid4()), self.body))
        self.conn.execute("COMMIT")


class SchemaFloor(Floor):
    """The bare insert into the store's own schema (same indexes), with the store's SQL."""

    def __init__(self, path: Path):
        from kiosk.store import migrations

        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        migrations.migrate(self.conn)
        self.body = json.dumps({"pad": "x" * 330})
        self.n = 0

    def press(self) -> None:
        self.n += 1
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(
            "INSERT INTO events (id, type, body, response_id, kind, mood, scale, flags, pressed_at,"
            " boot_id, uptime_ms, clock_synced, stored_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (id) DO NOTHING",
            (str(uuid.uuid4()), "response", self.body, None, None, 3, 4, "", "2026-11-23T10:00:00.000Z",
             "boot", self.n, 1, "2026-11-23T10:00:00.000Z"),
        )
        self.conn.execute("COMMIT")


def make_recorder(data_dir: Path) -> tuple[Recorder, Store]:
    cfg = default_store_config().model_copy(update={"opening_hours": ALWAYS_OPEN, "response_interval_s": 5.0})
    write_store_config(data_dir / "store-config.json", cfg, etag="bench")
    store = Store(data_dir / "kiosk.db")
    return Recorder(store, StoreConfigCache(data_dir / "store-config.json"), SystemClock(trust=False)), store


def run(presses: int, rounds: int, base: Path) -> dict[str, list[float]]:
    recorder, store = make_recorder(base)
    floor = Floor(base / "floor.db")
    schema = SchemaFloor(base / "schema.db")
    timings: dict[str, list[float]] = {"hymy": [], "floor": [], "schema": []}
    per_round = max(1, presses // rounds)
    # warm-up: first statements compile, files grow
    for _ in range(20):
        recorder.record(3, "button")
        floor.press()
        schema.press()
    for r in range(rounds):
        order = (("hymy", lambda r=r: recorder.record(1 + r % 4, "button")), ("floor", floor.press),
                 ("schema", schema.press))
        order = order[r % 3:] + order[: r % 3]
        for name, fn in order:
            timings[name].extend(time_ms(fn, per_round))
    store.close()
    floor.conn.close()
    schema.conn.close()
    return timings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (finishes in well under a minute)")
    ap.add_argument("--presses", type=int, default=None, help="presses per contender (default 5000, quick 1000)")
    ap.add_argument("--dir", type=Path, default=None, help="directory on the disk to measure (default: a temp dir)")
    args = ap.parse_args(argv)
    presses = args.presses or (1000 if args.quick else 5000)
    rounds = 10
    with tempfile.TemporaryDirectory(prefix="hymy-bench-capture-", dir=args.dir) as tmp:
        base = Path(tmp)
        timings = run(presses, rounds, base)
        fs = os.statvfs(base)
    print(f"capture latency, {presses} presses each, interleaved in {rounds} rounds, dir {base.parent} "
          f"(block size {fs.f_bsize})")
    stats = latency_table({name: timings[name] for name in ("floor", "schema", "hymy")}, 8)
    p50r = stats["hymy"].p50 / stats["floor"].p50
    p99r = stats["hymy"].p99 / stats["floor"].p99
    verdict = "met" if p99r <= 2.0 else "NOT met"
    print(f"ratio hymy/floor: p50 {p50r:.2f}x, p99 {p99r:.2f}x (target p99 <= 2x: {verdict})")
    print(f"ratio hymy/schema (Python layer only): p50 {stats['hymy'].p50 / stats['schema'].p50:.2f}x, "
          f"p99 {stats['hymy'].p99 / stats['schema'].p99:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
