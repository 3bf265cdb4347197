"""Fleet load benchmark: N simulated kiosks against one server on loopback, on SQLite and PostgreSQL.

Prints figures; asserts nothing (except that nothing accepted is missing from the database: a
benchmark that loses events must not print a throughput). Everything speaks the real protocol:

1. The organisation (one store per 50 devices) and one one-time enrolment code per device are made
   with ``server.admin`` on a fresh database; ``hymy server`` runs in its own process on 127.0.0.1
   with the per-device and per-address request limits off (a fleet's devices come from many
   addresses; on loopback all would share one).
2. Every simulated kiosk enrols through ``POST /api/v1/enroll`` (real code, real token). Enrolment
   stays limited to 10 per minute per address, so device *i* connects from its own loopback source
   address (127.77.x.y: the whole 127/8 is loopback on Linux), at most 5 devices per address.
3. For ``--seconds`` each kiosk loops: build ``--batch`` events with the capture core's
   ``build_response`` (protocol JSON, fresh UUIDv7 ids), gzip them like the sync agent, ``POST
   /api/v1/responses`` with its bearer token, then wait ``--interval`` seconds (jittered ±50 %).
   Kiosks are asyncio tasks on httpx (one connection each), not full sync agents: 1,000 agent threads
   with their own SQLite stores would measure this process, not the server.
4. Figures: accepted events/s, requests/s, request latency p50/p99 (client side, includes the time
   waiting in the server's queue), errors (non-200 answers, transport errors, rejected events), the
   server's RSS at the end and its peak (VmHWM), and the rows in the database (must equal accepted).
5. Floor: ``server.ingest.ingest`` called directly with batches of the same size on a fresh database
   of the same kind (no HTTP, JSON, gzip or auth): accepted events/s is printed as a share of it.

Note the client and the server share this machine's cores; at saturation the figures are a lower
bound for the server alone.

Usage: ``python bench/fleet.py [--quick] [--devices N] [--seconds S] [--batch B] [--interval S]
[--db sqlite|postgres|both]``. The default is 1,000 devices for 30 s; ``--quick`` is 200 devices for
8 s per database (about a minute in all). PostgreSQL needs ``HYMY_TEST_POSTGRES_URL``; without it the
PostgreSQL run is skipped with a printed reason.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

from timings import summarize  # bench/timings.py: this folder is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from hymy.timestamps import utcnow  # noqa: E402
from kiosk.capture import build_response  # noqa: E402
from kiosk.clock import ClockReading  # noqa: E402
from server import admin  # noqa: E402
from server import tables as t  # noqa: E402
from server.db import make_engine  # noqa: E402
from server.ingest import ingest  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.testing import run_server_process  # noqa: E402
from sync.protocol import default_store_config  # noqa: E402

DEVICES_PER_STORE = 50
DEVICES_PER_ADDRESS = 5  # the server allows 10 enrolments per minute per address
CONFIG = default_store_config()


def source_address(i: int) -> str:
    """Loopback source address of simulated device ``i`` (127.77.x.y, y in 1..250)."""
    n = i // DEVICES_PER_ADDRESS
    return f"127.77.{n // 250}.{n % 250 + 1}"


def make_events(device: int, seq: int, n: int) -> list[dict]:
    """``n`` protocol events of one device (responses with a realistic mood mix), as JSON dicts."""
    now = utcnow()
    out = []
    for k in range(n):
        reading = ClockReading(now - timedelta(milliseconds=n - k), True, f"fleet-{device}", 60_000 + seq * 1000 + k)
        r = build_response(random.choice((1, 2, 3, 3, 4, 4, 4)), "button", reading, CONFIG, [])
        out.append(r.model_dump(mode="json"))
    return out


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    http_errors: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    transport_kinds: dict[str, int] = field(default_factory=dict)
    enrol_errors: int = 0
    lost_batches: int = 0  #: no answer even to the resend

    @property
    def errors(self) -> int:
        """Failures a kiosk would notice: HTTP errors, rejected events, failed enrolments, batches
        unanswered twice. A transport error answered on the resend is counted apart (``transport``)."""
        return sum(self.http_errors.values()) + self.rejected + self.enrol_errors + self.lost_batches


@contextlib.contextmanager
def database(kind: str, root: Path):
    """Yield a fresh database URL of ``kind`` (a SQLite file, or a new PostgreSQL schema dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{root / 'fleet.db'}"
        return
    base = os.environ["HYMY_TEST_POSTGRES_URL"]
    schema = "fleet_" + secrets.token_hex(4)
    admin_engine = make_engine(base)
    with admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote('-csearch_path=' + schema)}"
    finally:
        with admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


def prepare(url: str, devices: int) -> list[str]:
    """Migrate, make the stores and one enrolment code per device; return the codes."""
    engine = make_engine(url)
    upgrade(engine)
    codes = []
    store = None
    for i in range(devices):
        if i % DEVICES_PER_STORE == 0:
            store = admin.create_store(engine, f"Fleet store {i // DEVICES_PER_STORE + 1}")
        codes.append(admin.create_device(engine, store, name=f"fleet-{i}").code)
    engine.dispose()
    return codes


def server_pid(base_url: str) -> int:
    """Pid of this process's child serving ``base_url`` (``run_server_process``'s server), from /proc."""
    port = str(urlsplit(base_url).port).encode()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            args = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue  # a process that ended meanwhile
        if ppid == os.getpid() and b"--port" in args and port in args:
            return int(stat.parent.name)
    raise SystemExit(f"no child process of this one serves {base_url}")


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


async def run_fleet(base: str, codes: list[str], seconds: float, batch: int, interval: float) -> tuple[Tally, float]:
    """Enrol every device, then let them all send for ``seconds``; returns (tally, measured seconds)."""
    tally = Tally()
    clients = [httpx.AsyncClient(base_url=base, timeout=60,
                                 transport=httpx.AsyncHTTPTransport(local_address=source_address(i)))
               for i in range(len(codes))]
    tokens: list[str | None] = [None] * len(codes)
    gate = asyncio.Semaphore(64)

    async def enrol(i: int) -> None:
        async with gate:
            try:
                r = await clients[i].post("/api/v1/enroll", json={"code": codes[i], "device_name": f"fleet-{i}",
                                                                   "app_version": "bench"})
            except httpx.TransportError:
                tally.enrol_errors += 1
                return
            if r.status_code == 200:
                tokens[i] = r.json()["token"]
            else:
                tally.enrol_errors += 1
                print(f"  enrol {i}: HTTP {r.status_code} {r.text[:200]}")

    t0 = time.perf_counter()
    await asyncio.gather(*(enrol(i) for i in range(len(codes))))
    print(f"  enrolled {sum(1 for x in tokens if x)}/{len(codes)} devices in {time.perf_counter() - t0:.1f} s")

    start = time.perf_counter()
    deadline = start + seconds

    async def device(i: int) -> None:
        token = tokens[i]
        if token is None:
            return
        rng = random.Random(i)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Content-Encoding": "gzip"}
        await asyncio.sleep(rng.uniform(0, interval))  # kiosks do not start in step
        seq = 0
        while time.perf_counter() < deadline:
            body = gzip.compress(json.dumps({"events": make_events(i, seq, batch)}).encode(), 6, mtime=0)
            seq += 1
            r = None
            for _attempt in range(2):  # like the sync agent: an unanswered batch is sent again (idempotent)
                t = time.perf_counter()
                try:
                    r = await clients[i].post("/api/v1/responses", content=body, headers=headers)
                    break
                except httpx.TransportError as exc:
                    tally.transport_errors += 1
                    kind = type(exc).__name__
                    tally.transport_kinds[kind] = tally.transport_kinds.get(kind, 0) + 1
            if r is None:
                tally.lost_batches += 1
                continue
            tally.latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                tally.http_errors[r.status_code] = tally.http_errors.get(r.status_code, 0) + 1
            else:
                for res in r.json()["results"]:
                    status = res["status"]
                    if status == "accepted":
                        tally.accepted += 1
                    elif status == "duplicate":
                        tally.duplicate += 1
                    else:
                        tally.rejected += 1
            await asyncio.sleep(interval * rng.uniform(0.5, 1.5))

    await asyncio.gather(*(device(i) for i in range(len(codes))))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.aclose() for c in clients))
    return tally, elapsed


def floor_rate(kind: str, root: Path, batch: int, events: int) -> float:
    """Events/s of ``server.ingest.ingest`` called directly, batches of ``batch``, on a fresh database."""
    with database(kind, root / "floor") if kind == "postgres" else _sqlite_floor(root) as url:
        engine = make_engine(url)
        upgrade(engine)
        store = admin.create_store(engine, "Floor")
        dev = admin.create_device(engine, store, "floor").device_id
        payloads = [make_events(0, k, batch) for k in range(max(1, events // batch))]
        t0 = time.perf_counter()
        for p in payloads:
            ingest(engine, dev, store, "Europe/Helsinki", p)
        rate = len(payloads) * batch / (time.perf_counter() - t0)
        engine.dispose()
        return rate


@contextlib.contextmanager
def _sqlite_floor(root: Path):
    yield f"sqlite:///{root / 'floor.db'}"


def bench(kind: str, args) -> None:
    print(f"\n-- {kind}: {args.devices} kiosks, {args.seconds:g} s, batches of {args.batch}, "
          f"one every {args.interval:g} s per kiosk")
    with tempfile.TemporaryDirectory(prefix="hymy-fleet-") as tmp:
        root = Path(tmp)
        with database(kind, root) as url:
            t0 = time.perf_counter()
            codes = prepare(url, args.devices)
            print(f"  organisation + {len(codes)} enrolment codes in {time.perf_counter() - t0:.1f} s")
            # the limits per device and per address off: a fleet's devices come from many addresses
            with run_server_process(url, env={"HYMY_DEVICE_RATE": "0", "HYMY_IP_RATE": "0"}, timeout_s=60) as base:
                pid = server_pid(base)
                tally, elapsed = asyncio.run(run_fleet(base, codes, args.seconds, args.batch, args.interval))
                rss, hwm = rss_mb(pid)
            engine = make_engine(url)
            with engine.connect() as conn:
                stored = conn.execute(select(func.count()).select_from(t.responses)).scalar_one()
            engine.dispose()
        (root / "floor").mkdir()
        floor = floor_rate(kind, root, args.batch, min(5000, max(1000, tally.accepted // 4)))
    requests = len(tally.latencies)
    rate = tally.accepted / elapsed
    offered = args.devices * args.batch / args.interval
    print(f"  offered load:       about {offered:.0f} events/s ({args.devices} x {args.batch} / {args.interval:g} s)")
    print(f"  requests:           {requests} ({requests / elapsed:.0f}/s)")
    print(f"  accepted events/s:  {rate:.0f}  ({tally.accepted} events in {elapsed:.1f} s)")
    lat = summarize(tally.latencies)  # seconds; all nan when there were no requests
    print(f"  latency p50 / p99:  {lat.p50 * 1000:.1f} ms / {lat.p99 * 1000:.1f} ms  (mean {lat.mean * 1000:.1f} ms)")
    print(f"  errors:             {tally.errors} (HTTP {tally.http_errors or 'none'}, unanswered twice "
          f"{tally.lost_batches}, rejected {tally.rejected}, duplicate {tally.duplicate}, "
          f"enrol {tally.enrol_errors})")
    print(f"  transport errors:   {tally.transport_errors} {tally.transport_kinds or ''} (the batch was sent "
          f"again, as the sync agent does; already stored events come back as duplicate)")
    print(f"  server RSS:         {rss:.0f} MiB at the end, peak {hwm:.0f} MiB")
    answered = tally.accepted + tally.duplicate  # a duplicate: stored by a send whose answer was lost
    print(f"  rows in database:   {stored} ({'every event answered accepted or duplicate is stored, once' if stored == answered else 'MISMATCH'})")
    print(f"  floor (ingest() direct, batches of {args.batch}): {floor:.0f} events/s; "
          f"fleet = {rate / floor:.2f} x floor"
          + ("" if rate < 0.9 * offered else " (below saturation: the fleet sent all it was asked to)"))
    if stored != answered:
        raise SystemExit(f"{kind}: {answered} events answered accepted/duplicate but {stored} rows stored")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 kiosks for 8 s per database")
    ap.add_argument("--devices", type=int, help="simulated kiosks (default 1000; --quick 200)")
    ap.add_argument("--seconds", type=float, help="sending time per database (default 30; --quick 8)")
    ap.add_argument("--batch", type=int, default=5, help="events per request (default 5)")
    ap.add_argument("--interval", type=float, default=1.0,
                    help="seconds between one kiosk's requests, jittered +-50%% (default 1.0)")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    args = ap.parse_args()
    args.devices = args.devices or (200 if args.quick else 1000)
    args.seconds = args.seconds or (8.0 if args.quick else 30.0)
    if args.devices > DEVICES_PER_ADDRESS * 250 * 250:
        raise SystemExit("too many devices for the 127.77.x.y source addresses")
    print(f"fleet: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        if kind == "postgres" and not os.environ.get("HYMY_TEST_POSTGRES_URL"):
            print("\n-- postgres: skipped (set HYMY_TEST_POSTGRES_URL=postgresql+psycopg://user:pw@127.0.0.1/db)")
            continue
        bench(kind, args)


if __name__ == "__main__":
    main()
