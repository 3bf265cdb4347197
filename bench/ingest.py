"""Server benchmark: ingest throughput against a bare executemany floor, and results query latency.

    python bench/ingest.py [--quick] [--postgres URL] [--responses N] [--stores N] [--batch N]

Ingest: batches of 500 responses (``--batch``: another size, e.g. 5 as the fleet's kiosks send) go through ``server.ingest.ingest`` (per-event validation, duplicate
check, idempotent insert, rollups in the same transaction) on SQLite (WAL, synchronous=NORMAL) and
PostgreSQL (when a URL is given or HYMY_TEST_POSTGRES_URL is set). The floor is a bare ``executemany``
of the same rows into the same ``responses`` table of the same database in the same run, one
transaction per batch. Target: ingest >= 50 % of the floor.

Results: a database filled with N stored responses (default 10 million; --quick 200,000) spread over
100 stores of one region and one year, with rollups built by SQL to what ingest keeps (store hourly and
daily, region daily); then p50/p95 of the manager queries: one store's daily results for a year, one
store's hourly results for a day, the region's 100 stores daily for a year (what
``/api/v1/regions/{id}/daily`` runs) and one store's reasons for a month. Target: p95 < 50 ms. The size
used is printed.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from timings import summarize, time_ms  # bench/timings.py: this folder is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uuid6  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from hymy.timestamps import format_ts  # noqa: E402
from server import admin, results  # noqa: E402
from server import tables as t  # noqa: E402
from server.app import settle_heap  # noqa: E402
from server.db import make_engine, writing  # noqa: E402
from server.ingest import ingest, parse, rows_for  # noqa: E402
from server.localtime import bucket  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.rollups import rebuild_regions  # noqa: E402

TZ = "Europe/Helsinki"
BATCH = 500


def events(n: int, start: datetime, rnd: random.Random) -> list[dict]:
    out = []
    for i in range(n):
        out.append({"type": "response", "id": str(uuid6.uuid7()), "question_id": "q-default",
                    "mood": rnd.randint(1, 4), "scale": 4, "source": "button",
                    "pressed_at": format_ts(start + timedelta(seconds=37 * i)), "clock_synced": True,
                    "boot_id": "bench-boot", "uptime_ms": 1000 + i, "flags": [], "app_version": "bench"})
    return out


def floor_rows(batch: list[dict], store_id: str, device_id: str) -> list[dict]:
    """The rows ingest would write for ``batch``: made by ingest's own ``rows_for`` (outside the timed part)."""
    now = format_ts(datetime.now(UTC))
    return list(rows_for(parse(batch), store_id, device_id, TZ, now).responses.values())


def bench_ingest(name: str, url: str, n_batches: int, size: int = BATCH) -> None:
    engine = make_engine(url)
    upgrade(engine)
    store = admin.create_store(engine, "Bench " + secrets.token_hex(3), timezone=TZ)
    device = admin.create_device(engine, store).device_id
    rnd = random.Random(1)
    start = datetime(2026, 1, 1, 8, tzinfo=UTC)
    settle_heap()  # as `hymy server` does once it has started
    ingest_s = floor_s = 0.0
    for b in range(n_batches):
        a = events(size, start + timedelta(days=b), rnd)
        f = floor_rows(events(size, start + timedelta(days=b), rnd), store, device)
        # alternate the order so neither side always meets a warmer cache
        for which in ((0, 1) if b % 2 else (1, 0)):
            if which == 0:
                t0 = time.perf_counter()
                out = ingest(engine, device, store, TZ, a, check_nul=False)  # as HTTP does for a clean body
                ingest_s += time.perf_counter() - t0
                assert out.accepted == size, out.results[:3]
            else:
                t0 = time.perf_counter()
                with writing(engine) as conn:
                    conn.execute(insert(t.responses), f)
                floor_s += time.perf_counter() - t0
    n = n_batches * size
    ing, flo = n / ingest_s, n / floor_s
    print(f"ingest  {name:10s} {n_batches} batches x {size}: ingest {ing:9.0f} events/s | "
          f"bare executemany {flo:9.0f} rows/s | ratio {ing / flo:5.1%} (target >= 50 %)")
    engine.dispose()


def fill(engine, n_responses: int, n_stores: int, start: date) -> list[str]:
    """N responses over ``n_stores`` stores and 365 days (opening hours 8-21), then rollups built by SQL."""
    stores = [f"st{i:03d}" for i in range(n_stores)]
    with writing(engine) as conn:
        conn.execute(insert(t.regions).values(id="bench", name="Bench region", created_at="2026-01-01T00:00:00.000Z"))
        conn.execute(insert(t.stores), [{"id": s, "region_id": "bench", "name": s, "timezone": TZ,
                                         "config_json": "{}", "created_at": "2026-01-01T00:00:00.000Z"}
                                        for s in stores])
    rnd = random.Random(2)
    chunk = 20_000
    base = datetime(start.year, start.month, start.day, 6, tzinfo=UTC)
    made = 0
    t0 = time.perf_counter()
    while made < n_responses:
        rows = []
        for _ in range(min(chunk, n_responses - made)):
            at = base + timedelta(days=rnd.randrange(365), seconds=rnd.randrange(13 * 3600))
            day, hour = bucket(at, TZ)
            rows.append({"id": str(uuid6.uuid7()), "store_id": stores[rnd.randrange(n_stores)], "device_id": "d",
                         "question_id": "q", "mood": rnd.randint(1, 4), "scale": 4, "source": "button",
                         "pressed_at": format_ts(at), "local_date": day, "hour_utc": hour, "clock_synced": True,
                         "boot_id": "b", "uptime_ms": 1, "flags": "" if rnd.random() > 0.05 else "repeat",
                         "app_version": "bench", "clock_corrected": False, "device_pressed_at": None,
                         "server_corrected_at": None, "original_pressed_at": None, "voided": False,
                         "received_at": "2026-01-01T00:00:00.000Z", "content_hash": "x"})
        with writing(engine) as conn:
            conn.execute(insert(t.responses), rows)
        made += len(rows)
    with writing(engine) as conn:
        conn.execute(text(
            "INSERT INTO rollup_hourly (store_id, local_date, hour_utc, scale, mood, counted, filtered) "
            "SELECT store_id, local_date, hour_utc, scale, mood, "
            "SUM(CASE WHEN flags = '' THEN 1 ELSE 0 END), SUM(CASE WHEN flags = '' THEN 0 ELSE 1 END) "
            "FROM responses GROUP BY store_id, local_date, hour_utc, scale, mood"))
        conn.execute(text(
            "INSERT INTO rollup_daily (store_id, local_date, scale, mood, counted, filtered) "
            "SELECT store_id, local_date, scale, mood, SUM(counted), SUM(filtered) FROM rollup_hourly "
            "GROUP BY store_id, local_date, scale, mood"))
        rebuild_regions(conn)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(f"  filled {made:,} responses in {n_stores} stores in {time.perf_counter() - t0:.0f} s")
    return stores


def bench_results(name: str, url: str, n_responses: int, n_stores: int, runs: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    start = date(2025, 1, 1)
    stores = fill(engine, n_responses, n_stores, start)
    end = start + timedelta(days=364)
    rnd = random.Random(3)
    with engine.connect() as conn:
        cases = {
            "one store, daily for a year": lambda: results.daily(conn, [rnd.choice(stores)], start, end),
            "one store, hourly for a day": lambda: results.hour_buckets(
                conn, rnd.choice(stores), TZ, start + timedelta(days=rnd.randrange(365))),
            f"{n_stores} stores (a region), daily for a year": lambda: results.daily(conn, stores, start, end),
            "one store, reasons for a month": lambda: results.followup_counts(
                conn, [rnd.choice(stores)], start, start + timedelta(days=30)),
        }
        for label, fn in cases.items():
            fn()  # warm
            ms = summarize(time_ms(fn, runs))
            print(f"results {name:10s} {label:42s} p50 {ms.p50:7.2f} ms  p95 {ms.p95:7.2f} ms (target p95 < 50 ms)")
    engine.dispose()


def pg_schema(base: str):
    schema = "bench_" + secrets.token_hex(4)
    root = create_engine(base, isolation_level="AUTOCOMMIT")
    with root.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote('-csearch_path=' + schema)}"

    def drop() -> None:
        with root.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        root.dispose()

    return url, drop


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    p.add_argument("--postgres", default=os.environ.get("HYMY_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    p.add_argument("--responses", type=int, default=None, help="stored responses for the results part")
    p.add_argument("--stores", type=int, default=100)
    p.add_argument("--batch", type=int, default=BATCH, help=f"events per ingested batch (default {BATCH})")
    a = p.parse_args()
    n_batches = (6 if a.quick else 40) * max(1, BATCH // a.batch // 10)  # small batches: more of them
    n_resp = a.responses or (200_000 if a.quick else 10_000_000)
    runs = 30 if a.quick else 100
    print(f"bench/ingest.py: batches of {a.batch}, {n_batches} per database; results at {n_resp:,} responses, "
          f"{a.stores} stores, one year")
    with tempfile.TemporaryDirectory() as tmp:
        bench_ingest("sqlite", f"sqlite:///{tmp}/ingest.db", n_batches, a.batch)
        if a.postgres:
            url, drop = pg_schema(a.postgres)
            try:
                bench_ingest("postgresql", url, n_batches, a.batch)
            finally:
                drop()
        else:
            print("ingest  postgresql skipped: give --postgres URL or set HYMY_TEST_POSTGRES_URL")
        bench_results("sqlite", f"sqlite:///{tmp}/results.db", n_resp, a.stores, runs)
        if a.postgres:
            url, drop = pg_schema(a.postgres)
            try:
                bench_results("postgresql", url, n_resp, a.stores, runs)
            finally:
                drop()


if __name__ == "__main__":
    main()
