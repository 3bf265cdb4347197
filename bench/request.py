"""The app's own CPU per device request, without HTTP: ``POST /api/v1/responses`` sent straight to the ASGI app
in this process, beside ``ingest()`` of the same kind of batch, interleaved in one run.

Prints figures; asserts nothing.

    python bench/request.py [--quick] [--db sqlite|postgres|both] [--requests N] [--batch B]

bench/fleet.py measures the whole server under uvicorn and real sockets, where one run's CPU per request moves
by up to a fifth from the next on a shared machine. This measures what the app adds to a batch's
``ingest()`` (the middleware, the token check, reading and parsing the body, the hand-off of the write and
the answer, the metrics, the alert evaluation's hand-off) with nothing else running, so a change to that
path shows as a ratio measured against a baseline in the same run:

- ``ingest()``: ``server.ingest.ingest`` of a batch in this process, one transaction each (the fleet's
  denominator);
- ``app, writes on the loop``: the request through the app as ``hymy server`` builds it (SQLite: the batch
  written on the event loop, ``server.loopwrite``);
- ``app, writes on the writer thread``: the same app with its ``offload.loop_writes`` set to None, so every
  batch is handed to the writer thread and back (how every batch was written before 2026-12-06; SQLite
  only).

Each runs ``--concurrency`` requests at a time (1: one kiosk after another; 8: batches that arrive
together, which the writes group), in blocks of 100 taken in turn, after a warm-up; CPU is this
process's ``time.process_time()`` (every thread). The devices and their tokens are the fleet's
(``fleetdb.organise``); the bodies are the sync agent's (gzip'd batch JSON). Rate limits are off.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fleetdb  # noqa: E402
import fleetfloor  # noqa: E402
from fleetload import batch_json, press_events  # noqa: E402

from server.app import create_app, settle_heap  # noqa: E402
from server.ingest import ingest  # noqa: E402
from server.settings import Settings  # noqa: E402
from sync.client import gzip_body  # noqa: E402

BLOCK = 100


def scope(app, token: str, body: bytes) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/api/v1/responses", "raw_path": b"/api/v1/responses", "root_path": "", "query_string": b"",
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "app": app, "state": {},
            "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode()),
                        (b"content-type", b"application/json"), (b"content-encoding", b"gzip"),
                        (b"content-length", str(len(body)).encode())]}


async def post(app, token: str, body: bytes) -> None:
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope(app, token, body), receive, send)
    if sent[0]["status"] != 200 or b'"rejected"' in sent[1]["body"]:
        raise SystemExit(f"the app answered {sent[0]['status']}: {sent[1]['body'][:300]!r}")


async def lifespan(app, message: str) -> tuple:
    """Run the app's lifespan up to ``message``'s answer (start-up) in a task of its own."""
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                     inbox.get, outbox.put))
    got = await outbox.get()
    if got["type"] != message:
        raise SystemExit(f"the app did not start: {got}")
    return inbox, outbox, task


async def run(kind: str, url: str, requests: int, batch: int, concurrency: int) -> None:
    members = fleetdb.organise(url, 20)
    app = create_app(Settings(database_url=url, device_rate_per_min=0, ip_rate_per_min=0, secure_cookies=False))
    inbox, outbox, task = await lifespan(app, "lifespan.startup.complete")
    engine, offload = app.state.engine, app.state.offload
    on_loop = offload.loop_writes
    rng = random.Random(5)
    boot = f"request-bench-{concurrency}"
    counter = iter(range(10**9))

    def body() -> bytes:
        return gzip_body(batch_json(press_events(batch, rng, boot, 10**6 + next(counter))))

    async def app_block(loop_writes) -> None:
        offload.loop_writes = loop_writes
        todo = [(members[k % len(members)].token, body()) for k in range(BLOCK)]
        for i in range(0, BLOCK, concurrency):
            await asyncio.gather(*(post(app, tok, b) for tok, b in todo[i:i + concurrency]))

    async def ingest_block(_) -> None:
        for k, events in enumerate(fleetfloor.batches(BLOCK, batch, seed=next(counter))):
            m = members[k % len(members)]
            ingest(engine, m.device_id, m.store_id, fleetdb.TIMEZONE, events, check_nul=False)

    variants = {"ingest()": (ingest_block, None)}
    if on_loop is None:
        variants["app"] = (app_block, None)
    else:
        variants["app, writes on the loop"] = (app_block, on_loop)
        variants["app, writes on the writer thread"] = (app_block, None)
    for fn, arg in variants.values():  # warm-up
        await fn(arg)
    settle_heap()
    spent = dict.fromkeys(variants, 0.0)
    done = dict.fromkeys(variants, 0)
    while min(done.values()) < requests:
        for name, (fn, arg) in variants.items():
            started = time.process_time()
            await fn(arg)
            spent[name] += time.process_time() - started
            done[name] += BLOCK
    offload.loop_writes = on_loop
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()
    await task
    base = spent["ingest()"] / done["ingest()"]
    print(f"-- {kind}, {batch}-event batches, {concurrency} at a time, {requests} of each")
    for name in variants:
        per = spent[name] / done[name]
        print(f"  {name:34s} {per * 1000:6.3f} ms CPU per request  = {per / base:4.2f}x ingest()")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1,000 requests of each instead of 4,000")
    ap.add_argument("--requests", type=int, help="requests (and ingest() calls) of each variant")
    ap.add_argument("--batch", type=int, default=5, help="events per batch (default 5)")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    args = ap.parse_args()
    requests = args.requests or (1000 if args.quick else 4000)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"request: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}")
    for kind in kinds:
        if kind == "postgres" and not os.environ.get("HYMY_TEST_POSTGRES_URL"):
            print("-- postgres: skipped (set HYMY_TEST_POSTGRES_URL)")
            continue
        for concurrency in (1, 8):
            with tempfile.TemporaryDirectory() as tmp, fleetdb.database(kind, Path(tmp), "request") as url:
                asyncio.run(run(kind, url, requests, args.batch, concurrency))


if __name__ == "__main__":
    main()
