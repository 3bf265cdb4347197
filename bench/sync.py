"""Sync agent benchmark: backlog drain vs the server's own bulk-insert floor, press latency, idle cost.

Prints figures; asserts nothing. Everything runs for real on loopback: a Uvicorn server with a SQLite
database (``hymy server`` in its own process), a device store (``kiosk.store.Store``), the agent
(``sync.agent.Agent``) over HTTP with gzip.

1. Floor: the server's ingest function (``server.ingest.ingest``, batches of 500) called directly on a
   fresh database of the same kind with the same rows: no HTTP, no JSON, no gzip, no device store.
   Half is measured before the drain and half after, so drifting machine load skews both alike.
2. Drain: the agent sends the same number of events from a device backlog through the real server.
   Target: drain events/s >= 50 % of the floor.
3. Latency online: presses recorded through ``kiosk.capture.Recorder`` at human pace while the agent's
   real loop runs; time from the committed press to the row being visible in the server's database.
   Target: p95 < 2 s.
4. Idle cost: CPU time of an idle ``python -m sync`` process over a few seconds.

5. Outage catch-up (``--outage``, instead of 1-4): seconds from a restarted server being ready to the
   device's outbox being empty, after outages of 20 s and 60 s in real time and of 20 s, 60 s and
   10 minutes on a simulated clock (``bench/outage.py`` says how).

Usage: ``python bench/sync.py [--quick] [--events N] [--presses N]``. ``--quick`` uses 10,000 events and
25 presses (about a minute); the default is 100,000 events and 150 presses.
``python bench/sync.py --outage [--real 20,60] [--simulated 20,60,600] [--trials N] [--sim-trials N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from timings import summarize  # bench/timings.py: this folder is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from hymy import children  # noqa: E402
from hymy.protocol import default_store_config  # noqa: E402
from hymy.timestamps import utcnow  # noqa: E402
from kiosk.capture import Recorder, build_followup, build_response  # noqa: E402
from kiosk.clock import ClockReading, SystemClock  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.store import Store  # noqa: E402
from server import admin  # noqa: E402
from server import tables as t  # noqa: E402
from server.app import settle_heap  # noqa: E402
from server.db import make_engine  # noqa: E402
from server.ingest import ingest  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.testing import run_server_process  # noqa: E402
from sync.agent import Agent  # noqa: E402


def device_config(root: Path, url: str, code: str) -> Path:
    path = root / "kiosk.toml"
    path.write_text(f'[device]\nname = "bench"\ndata_dir = "{root / "data"}"\nclock = "trust"\n\n'
                    f'[server]\nurl = "{url}"\nenrolment_code = "{code}"\n')
    return path


def make_backlog(store: Store, n: int) -> list[dict]:
    """``n`` realistic events (a follow-up after every 5th press) into the store; returns their payloads."""
    cfg = default_store_config()
    base = utcnow() - timedelta(days=3)
    rng = random.Random(1)
    events = []
    i = 0
    while len(events) < n:
        now = ClockReading(base + timedelta(seconds=7 * i), True, "bench-boot", 10_000 + 7000 * i)
        r = build_response(rng.choice((1, 2, 3, 4, 4, 4, 3)), "touch", now, cfg, [])
        events.append(r)
        if i % 5 == 0 and len(events) < n:
            events.append(build_followup(r.id, "reason", "queue", now))
        i += 1
    for k in range(0, n, 5000):
        store.append_many(events[k:k + 5000])
    return [e.model_dump(mode="json") for e in events]


class Floor:
    """The server's own ingest of the same rows, batches of 500, on a fresh database of the same kind.

    Measured in two halves, one before and one after the agent's drain, so a machine whose load drifts
    (CI, shared cores) skews both figures alike.
    """

    def __init__(self, root: Path, payloads: list[dict]):
        self.engine = make_engine(f"sqlite:///{root / 'floor.db'}")
        upgrade(self.engine)
        self.store_id = admin.create_store(self.engine, "Floor")
        self.device_id = admin.create_device(self.engine, self.store_id, "floor").device_id
        settle_heap()  # as the server process does once it has started
        self.payloads = payloads
        self.done = 0
        self.seconds = 0.0

    def run(self, upto: int) -> None:
        t0 = time.perf_counter()
        for k in range(self.done, upto, 500):
            ingest(self.engine, self.device_id, self.store_id, "Europe/Helsinki", self.payloads[k:min(k + 500, upto)])
        self.seconds += time.perf_counter() - t0
        self.done = upto

    @property
    def rate(self) -> float:
        return self.done / self.seconds


def drain_rate(root: Path, url: str, code: str, n: int) -> tuple[float, float, int]:
    """(seconds, events/s, events the server holds) for the agent draining an ``n``-event backlog."""
    cfg = load_config(device_config(root, url, code))
    store = Store(cfg.store_path)
    payloads = make_backlog(store, n)
    agent = Agent(cfg, store=store)
    agent.drain(max_batches=0)  # enrol first: not part of the drain
    t0 = time.perf_counter()
    result = agent.drain()
    elapsed = time.perf_counter() - t0
    if not result.ok:
        raise SystemExit(f"drain failed: {result.error} (pending {result.pending})")
    agent.close()
    store.close()
    return elapsed, n / elapsed, len(payloads)


def latency(root: Path, url: str, engine, code: str, presses: int) -> list[float]:
    """Seconds from a committed press to its row in the server's database, for ``presses`` presses."""
    cfg = load_config(device_config(root, url, code))
    store = Store(cfg.store_path)
    agent = Agent(cfg, store=store)
    agent.drain(max_batches=0)
    runner = threading.Thread(target=agent.run, daemon=True)
    runner.start()
    kiosk_store = Store(cfg.store_path)  # the kiosk's own connection, as in production
    recorder = Recorder(kiosk_store, default_store_config, SystemClock(trust=True))
    pending: dict[str, float] = {}
    seen: list[float] = []
    lock = threading.Lock()
    done = threading.Event()

    def watch():
        with engine.connect() as conn:
            while not done.is_set() or pending:
                with lock:
                    ids = list(pending)
                if ids:
                    found = conn.execute(select(t.responses.c.id).where(t.responses.c.id.in_(ids))).scalars().all()
                    conn.rollback()
                    now = time.perf_counter()
                    with lock:
                        for i in found:
                            seen.append(now - pending.pop(i))
                time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    rng = random.Random(2)
    time.sleep(0.5)
    for _ in range(presses):
        time.sleep(rng.uniform(0.1, 0.9))  # customers at an exit: bursts and gaps
        r = recorder.record(rng.randint(1, 4), "touch")
        with lock:
            pending[r.id] = time.perf_counter()
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    watcher.join(5)
    agent.stop()
    runner.join(10)
    agent.close()
    kiosk_store.close()
    store.close()
    if pending:
        print(f"  WARNING: {len(pending)} presses not visible on the server after 30 s")
    return seen


def idle_cpu(root: Path, url: str, code: str, seconds: float) -> float:
    """CPU milliseconds per second of an idle ``python -m sync`` process (after start-up)."""
    path = device_config(root, url, code)
    proc = children.popen([sys.executable, "-m", "sync", "--config", str(path)], cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2.0)  # start-up, enrolment, first heartbeat
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu() -> float:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        c0, t0 = cpu(), time.perf_counter()
        time.sleep(seconds)
        return (cpu() - c0) / (time.perf_counter() - t0) * 1000
    finally:
        proc.terminate()
        proc.wait(10)


def _seconds(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def outage_main(args) -> None:
    import outage  # bench/outage.py

    with tempfile.TemporaryDirectory(prefix="hymy-bench-outage-") as tmp:
        root = Path(tmp)
        database_url = f"sqlite:///{root / 'server.db'}"
        engine = make_engine(database_url)
        upgrade(engine)
        print("outage catch-up: seconds from the server being ready again to the device's outbox being empty")
        sim = outage.simulated_outages(root, database_url, engine, device_config, _seconds(args.simulated),
                                       args.sim_trials)
        for seconds, waits in sim.items():
            print(f"simulated {seconds:5.0f} s outage: {outage.summary(waits)}")
        real = outage.real_outages(root, database_url, engine, device_config, _seconds(args.real), args.trials)
        for seconds, waits in real.items():
            print(f"real      {seconds:5.0f} s outage: {outage.summary(waits)}")
        engine.dispose()
        print(json.dumps({"simulated": {f"{k:.0f}": [round(w, 1) for w in v] for k, v in sim.items()},
                          "real": {f"{k:.0f}": [round(w, 1) for w in v] for k, v in real.items()}}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outage", action="store_true", help="measure catch-up after server outages instead")
    ap.add_argument("--real", default="20,60", help="real-time outage lengths in seconds (default 20,60)")
    ap.add_argument("--simulated", default="20,60,600",
                    help="simulated-clock outage lengths in seconds (default 20,60,600)")
    ap.add_argument("--trials", type=int, default=2, help="real-time trials per outage length (default 2)")
    ap.add_argument("--sim-trials", type=int, default=20, help="simulated trials per outage length (default 20)")
    ap.add_argument("--quick", action="store_true", help="10,000 events, 25 presses (about a minute)")
    ap.add_argument("--events", type=int, help="backlog size (default 100,000; --quick 10,000)")
    ap.add_argument("--presses", type=int, help="presses for the latency run (default 150; --quick 25)")
    args = ap.parse_args()
    if args.outage:
        return outage_main(args)
    n = args.events or (10_000 if args.quick else 100_000)
    presses = args.presses or (25 if args.quick else 150)
    with tempfile.TemporaryDirectory(prefix="hymy-bench-sync-") as tmp:
        root = Path(tmp)
        (root / "floor").mkdir()
        print(f"sync bench: backlog {n:,} events, {presses} presses for latency, SQLite server on loopback")
        database_url = f"sqlite:///{root / 'server.db'}"
        engine = make_engine(database_url)
        upgrade(engine)
        # ``hymy server`` in its own process (as in production: not sharing our GIL), request limits off
        with run_server_process(database_url, env={"HYMY_DEVICE_RATE": "0", "HYMY_IP_RATE": "0"}, timeout_s=60) as url:
            codes = []
            for name in ("drain", "latency", "idle"):
                sid = admin.create_store(engine, f"Bench {name}")
                codes.append(admin.create_device(engine, sid, name).code)
            # the floor first on its own database, with the same rows the device will send
            scratch = Store(root / "floor" / "rows.db")
            payloads = make_backlog(scratch, n)
            scratch.close()
            floor_run = Floor(root / "floor", payloads)
            floor_run.run(n // 2 // 500 * 500)
            (root / "drain").mkdir()
            secs, rate, _ = drain_rate(root / "drain", url, codes[0], n)
            floor_run.run(n)
            floor_run.engine.dispose()
            floor = floor_run.rate
            print(f"floor  server ingest() direct, batches of 500: {floor:10,.0f} events/s "
                  "(half before, half after the drain)")
            print(f"drain  agent -> HTTP+gzip -> server:           {rate:10,.0f} events/s "
                  f"({n:,} in {secs:.2f} s) = {rate / floor:.0%} of the floor (target >= 50 %)")
            (root / "latency").mkdir()
            lat = summarize(latency(root / "latency", url, engine, codes[1], presses))  # seconds
            if lat.n:
                print(f"latency press -> visible on server: p50 {lat.p50 * 1000:.0f} ms, "
                      f"p95 {lat.p95 * 1000:.0f} ms, max {lat.max * 1000:.0f} ms over {lat.n} presses "
                      f"(target p95 < 2000 ms)")
            (root / "idle").mkdir()
            idle = idle_cpu(root / "idle", url, codes[2], 3.0 if args.quick else 10.0)
            print(f"idle   agent process CPU while nothing happens: {idle:.1f} ms per second "
                  f"(/proc tick resolution: {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms over the window)")
            engine.dispose()
            print(json.dumps({"events": n, "floor_eps": round(floor), "drain_eps": round(rate),
                              "drain_vs_floor": round(rate / floor, 3), "drain_s": round(secs, 2),
                              "latency_p50_ms": round(lat.p50 * 1000) if lat.n else None,
                              "latency_p95_ms": round(lat.p95 * 1000) if lat.n else None,
                              "idle_cpu_ms_per_s": round(idle, 2)}))


if __name__ == "__main__":
    main()
