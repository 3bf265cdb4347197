"""The two in-process costs bench/fleet.py prints beside the server's: ``server.ingest.ingest()`` and the
bare driver floor, in CPU per batch. Not a benchmark itself (``make bench`` skips it).

Both get batches of the same size as the fleet's requests, built by the kiosks' own code
(``fleetload.press_events`` -> the agent's batch JSON -> ``json.loads``, what the server parses out of
a request body), each on its own fresh database of the kind measured (organised like the fleet's: the
rollups of a store and its region are upserted as in the fleet), in alternating order batch by batch so
neither meets a warmer machine, after ``warmup`` batches each (fleet.py measures half before its fleet
runs and half after, and pools them: ``Cost.pooled``). CPU is this process's
``time.process_time()`` around each call (no other thread runs meanwhile); on PostgreSQL the backend's
CPU (``fleetdb.Backends``) is printed beside it.

The floor writes exactly the rows ``ingest()`` writes for a batch of new presses, through the bare driver
(``sqlite3`` with the server's pragmas, or ``psycopg``), in one transaction per batch: each event's
claim in ``event_ids`` (its id and type: the table that keeps an id one event, what makes a resend a
duplicate), the response rows (made by ingest's own ``rows_for``, outside the timed part) and the
upserts of their rollup deltas into ``rollup_hourly``, ``rollup_daily`` and ``rollup_region_daily``
(``server.rollups.bump_hourly``'s three tables, deltas summed outside the timed part). It leaves out
what writes no row: validation, the duplicate lookup, the region lookup. (Until 2026-12-06 it left out
the ``event_ids`` rows too, one of the four tables ``ingest()`` writes; docs/benchmarks.md has the
figures of both.) SQLite: an ``executemany`` per table. PostgreSQL: since 2026-12-07 one statement per
table with its rows bound as one JSON value, in one pipeline (the way ``ingest()`` binds them since then;
the ``executemany`` per table of before cost more than ``ingest()`` itself, so it was no floor).
"""

from __future__ import annotations

import json
import random
import secrets
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import fleetdb
from fleetload import batch_json, press_events
from sqlalchemy.engine import make_url

from hymy.timestamps import format_ts, utcnow
from server import tables as t
from server.app import settle_heap
from server.binding import json_param, json_rows
from server.db import make_engine
from server.ingest import ingest, parse, rows_for

RESPONSE_COLUMNS = [c.name for c in t.responses.c]
ROLLUPS = (t.rollup_hourly, t.rollup_daily, t.rollup_region_daily)


@dataclass(frozen=True)
class Cost:
    """Mean cost of one batch: this process's CPU, wall time, and the database backend's CPU (PostgreSQL;
    None for SQLite, which runs inside this process, or when the backend is not visible), in ms."""

    cpu_ms: float
    wall_ms: float
    db_cpu_ms: float | None
    batches: int
    parts: tuple[float, ...] = ()  #: ``cpu_ms`` of each measurement pooled by ``pooled``

    @staticmethod
    def pooled(costs: list[Cost]) -> Cost:
        """The mean over several measurements, weighted by their batches."""
        n = sum(c.batches for c in costs)

        def mean(name: str) -> float | None:
            values = [getattr(c, name) for c in costs]
            return None if None in values else sum(v * c.batches for v, c in zip(values, costs, strict=True)) / n

        return Cost(mean("cpu_ms"), mean("wall_ms"), mean("db_cpu_ms"), n, tuple(c.cpu_ms for c in costs))


def batches(n: int, size: int, seed: int) -> list[list[dict]]:
    """``n`` batches of ``size`` presses as the server parses them from the kiosks' bodies."""
    rng = random.Random(seed)
    return [json.loads(batch_json(press_events(size, rng, "fleet-boot-floor", 10**6 + k)))["events"]
            for k in range(n)]


def _sql(table, mark: str) -> str:
    """``INSERT`` of ``table``'s columns; for a rollup, the upsert that adds its counts (as server.rollups).
    ``mark`` ``"json"``: PostgreSQL's rows from one JSON value (``server.binding.json_rows``) instead of ``VALUES``."""
    cols = [c.name for c in table.c]
    source = f"VALUES ({', '.join([mark] * len(cols))})"
    if mark == "json":
        source = f"SELECT {', '.join('u.' + c for c in cols)} FROM {json_rows(table, 'rows')}"
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) {source}"
    if table is t.responses or table is t.event_ids:
        return sql
    keys = [c.name for c in table.primary_key.columns]
    sums = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in cols if c not in keys)
    return f"{sql} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sums}"


def floor_params(batch: list[dict], who: fleetdb.Member) -> list[list[tuple]]:
    """Parameter rows of the floor's five statements for ``batch`` (event_ids, responses, then the three
    rollups)."""
    rows = rows_for(parse(batch, check_nul=False), who.store_id, who.device_id, fleetdb.TIMEZONE,
                    format_ts(utcnow())).responses.values()
    hourly: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        hourly[(r["local_date"], r["hour_utc"], r["scale"], r["mood"])][0 if not r["flags"] else 1] += 1
    daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (day, _, scale, mood), (counted, filtered) in hourly.items():
        d = daily[(day, scale, mood)]
        d[0] += counted
        d[1] += filtered
    return [[(r["id"], "response") for r in sorted(rows, key=lambda r: r["id"])],
            [tuple(r[c] for c in RESPONSE_COLUMNS) for r in rows],
            [(who.store_id, *k, *v) for k, v in sorted(hourly.items())],
            [(who.store_id, *k, *v) for k, v in sorted(daily.items())],
            [(who.region_id, *k, *v) for k, v in sorted(daily.items())]]


class _Floor:
    """The bare driver writing one batch per ``write`` call in one transaction."""

    def __init__(self, url: str):
        if url.startswith("sqlite"):
            self.conn = sqlite3.connect(make_url(url).database, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
                self.conn.execute(f"PRAGMA {pragma}")  # as server.db.make_engine sets them
            self.sql = [_sql(tb, "?") for tb in (t.event_ids, t.responses, *ROLLUPS)]
            self.postgres = False
        else:
            import psycopg

            self.conn = psycopg.connect(fleetdb.libpq_url(url))
            self.tables = (t.event_ids, t.responses, *ROLLUPS)
            self.sql = [_sql(tb, "json") for tb in self.tables]
            self.postgres = True

    def write(self, params: list[list[tuple]]) -> None:
        if self.postgres:  # one statement per table, the rows as one JSON value, all in one pipeline
            with self.conn.pipeline(), self.conn.cursor() as cur:
                for table, sql, rows in zip(self.tables, self.sql, params, strict=True):
                    cur.execute(sql, {"rows": json_param([c.name for c in table.c], rows)})
                self.conn.commit()
            return
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")  # as server.db.writing
        for sql, rows in zip(self.sql, params, strict=True):
            cur.executemany(sql, rows)
        cur.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def measure(kind: str, root: Path, size: int, n: int, warmup: int) -> tuple[Cost, Cost]:
    """(``ingest()``, floor) cost per batch of ``size`` presses, ``n`` batches each after ``warmup``."""
    tag = secrets.token_hex(4)
    with fleetdb.database(kind, root, "ingest") as url_i, fleetdb.database(kind, root, "floor") as url_f:
        url_i, url_f = fleetdb.tagged(url_i, f"fleet-ingest-{tag}"), fleetdb.tagged(url_f, f"fleet-floor-{tag}")
        who_i, who_f = fleetdb.organise(url_i, 2), fleetdb.organise(url_f, 2)
        engine = make_engine(url_i)
        floor = _Floor(url_f)
        todo = batches(2 * (warmup + n), size, seed=7)
        work_i = todo[: warmup + n]
        work_f = [floor_params(b, who_f[k % 2]) for k, b in enumerate(todo[warmup + n:])]
        settle_heap()  # as `hymy server` does once it has started
        meters = {}
        if kind == "postgres":
            meters = {"i": fleetdb.Backends(url_i, f"fleet-ingest-{tag}"),
                      "f": fleetdb.Backends(url_f, f"fleet-floor-{tag}")}
        cpu = {"i": 0.0, "f": 0.0}
        wall = {"i": 0.0, "f": 0.0}
        for k in range(warmup + n):
            if k == warmup:
                for m in meters.values():
                    m.start()
            for which in ("if" if k % 2 else "fi"):
                c0, w0 = time.process_time(), time.perf_counter()
                if which == "i":
                    who = who_i[k % 2]
                    out = ingest(engine, who.device_id, who.store_id, fleetdb.TIMEZONE, work_i[k], check_nul=False)
                else:
                    floor.write(work_f[k])
                if k >= warmup:
                    cpu[which] += time.process_time() - c0
                    wall[which] += time.perf_counter() - w0
            if out.accepted != size:
                raise SystemExit(f"ingest() accepted {out.accepted} of {size} events: {out.results[:2]}")
        db = {w: m.used_s() for w, m in meters.items()}
        for m in meters.values():
            m.close()
        floor.close()
        engine.dispose()

    def cost(w: str) -> Cost:
        used = db.get(w)
        return Cost(cpu[w] / n * 1000, wall[w] / n * 1000, None if used is None else used / n * 1000, n)

    return cost("i"), cost("f")
