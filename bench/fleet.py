"""Fleet benchmark: simulated kiosks against one ``hymy server`` (``--workers N``: its N worker processes) on loopback, on SQLite and PostgreSQL.

Prints figures; asserts nothing, except that nothing answered is missing from the database (a run
that loses events exits with an error before its JSON line).

    python bench/fleet.py [--quick] [--db sqlite|postgres|both] [--procs N]
        [--devices N] [--seconds S] [--batch B] [--interval S]   # the saturating mode (default)
        --realistic [--devices N] [--seconds S]                   # a busy hour of N kiosks
        --step [--devices N] [--step-rps R] [--step-seconds S]    # raise the rate until p99 > 1 s

PostgreSQL needs HYMY_TEST_POSTGRES_URL (else its part is skipped with a printed reason). Per database:

1. A fresh database (a SQLite file; a new PostgreSQL schema), the organisation (one store per 50
   kiosks, one region per 10 stores) and the devices with their tokens, written directly
   (``fleetdb.organise``: the enrolment endpoint allows 10 enrolments per minute per address).
2. ``hymy server --workers N`` (default 1) in its own process(es) on 127.0.0.1 (start-up and set-up are not measured).
3. The kiosks run in ``--procs`` load processes of their own (``fleetload``): never in this process
   and never in the server's, so their CPU shows in neither figure. Each sends as the sync agent does
   (the agent's own batch JSON and gzip, fresh UUIDv7 ids, keep-alive connections, one request at a
   time, resends with the agent's backoff). Modes:
   - default (saturating): ``--devices`` kiosks (1,000; ``--quick`` 200) each send a batch of
     ``--batch`` (5) events, wait for the answer, wait ``--interval`` (1 s) +-50 %, for ``--seconds``
     (30; ``--quick`` 8). Far more than one server process takes here: the server is measured flat out.
   - ``--realistic``: ``--devices`` kiosks (10,000) at a busy hour: presses at random (Poisson), one
     every 30 s per kiosk on average, each sent at once as a batch of one (presses made while a request
     is out go together in the next batch); a heartbeat every 60 s (``sync.heartbeat``'s body) and,
     when it is answered, a config pull with the store's ETag (answered 304). About 0.067 requests/s
     per kiosk: 10,000 kiosks offer ~667 requests/s (333 batches, 167 heartbeats, 167 config pulls).
     For ``--seconds`` (120; ``--quick`` 30). The server keeps its default request limits.
   - ``--step``: the realistic kiosks with their clocks sped up so the offered rate is ``--step-rps``
     (50) requests/s in the first step of ``--step-seconds`` (10; ``--quick`` 5), 100 in the second and
     so on, until a step's p99 passes 1 s or it has errors (its requests still unanswered 1 s after
     the step count as slower than 1 s); the knee is the last step that passed. A step in which the
     load generator fell behind by more than UNJUDGEABLE_S (p99 0.5 s) ends the run with "the knee is
     higher, not found".
   The saturating and step modes turn the server's per-device and per-address limits off.
4. Figures, all over the measured window (from the first kiosk's start until the last answer):
   - requests/s (every request, all routes), latency p50/p99 (client side, from sending the request to
     the end of the answer, queueing in the server included), per route too;
   - errors: attempts answered with a status other than 2xx/304, attempts without an answer
     (connection errors, 30 s timeouts), events answered ``rejected``;
   - rows: the responses in the database must be the events answered ``accepted`` or ``duplicate``
     (a duplicate: stored by a try whose answer was lost) plus those of the never-answered batches
     that did arrive;
   - server CPU: user + system seconds of the server's process tree (all threads, worker processes)
     from /proc/<pid>/stat at the window's start and end, per request, and as a share of one core;
     on PostgreSQL also the CPU of its backends serving the server (by application_name, /proc), which
     is in none of the other figures;
   - the load generator's CPU per request and how late idle kiosks' sends started: past BEHIND_S
     (p99 0.1 s) the load generator itself fell behind (a busy machine) and a WARNING says the
     figures are not the server's alone;
   - ``ingest()`` in-process and the bare driver floor (``fleetfloor``): CPU per batch of the same size
     (``--batch``; 1 in the realistic and step modes) on a fresh database of the same kind, after a
     warm-up, measured after the server stopped;
   - ratios: server CPU per request / ``ingest()`` CPU per batch (``cpu_ratio``; the HTTP, auth, JSON
     and scheduling overhead of a request), floor CPU / ``ingest()`` CPU (what ``ingest()`` spends over
     the bare writes).
5. The section ends with one JSON line: ``{"db", "requests_per_s", "p50_ms", "p99_ms", "errors",
   "server_cpu_ms_per_request", "ingest_cpu_ms_per_batch", "floor_cpu_ms_per_batch", "cpu_ratio"}``
   (in the step mode ``{"db", "mode": "step", "knee_requests_per_s", "knee_p50_ms", "knee_p99_ms",
   "failed_at_requests_per_s", "behind_at_requests_per_s", "server_cpu_ms_per_request", ...}``; the
   knee's figures are 0/null when no step passed, failed_at/behind_at null when no step failed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import ssl
import sys
import tempfile
import time
from pathlib import Path

from timings import percentile, summarize, tree_cpu_s  # bench/ is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fleetdb  # noqa: E402
import fleetfloor  # noqa: E402
import httpx  # noqa: E402
from fleetload import Kiosk, Traffic  # noqa: E402
from fleetrun import LoadRun  # noqa: E402
from fleetserver import logged_errors, rss_mb, server_process  # noqa: E402

from sync.client import API  # noqa: E402

NO_LIMITS = {"HYMY_DEVICE_RATE": "0", "HYMY_IP_RATE": "0"}
#: Idle kiosks' sends starting later than this (p99) mean the load generator itself fell behind (a busy
#: machine): its figures are then not the server's alone (healthy runs here: p99 a few ms).
BEHIND_S = 0.1
#: ... and this late, a step's p99 over 1 s may be the load generator's own delay: the step is not judged.
UNJUDGEABLE_S = 0.5


def address(store: int) -> str:
    """Loopback source address of the kiosks of store number ``store`` (127.77.x.y; all 127/8 is loopback)."""
    return f"127.77.{store // 250}.{store % 250 + 1}"


def etags(base: str, members: list[fleetdb.Member]) -> dict[str, str]:
    """Each store's config ETag, as its kiosks hold it in steady state (one request per store)."""
    out = {}
    ctx = ssl.create_default_context()  # unused over http://; made once instead of once per client
    for i in range(0, len(members), fleetdb.DEVICES_PER_STORE):
        m = members[i]
        transport = httpx.HTTPTransport(local_address=address(i // fleetdb.DEVICES_PER_STORE), verify=ctx)
        with httpx.Client(transport=transport, base_url=base + API) as client:
            r = client.get("/config", headers={"Authorization": f"Bearer {m.token}"})
        r.raise_for_status()
        out[m.store_id] = r.headers["ETag"]
    return out


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:,.1f} ms"


def plan(args) -> tuple[Traffic, list[tuple[float, float]], int, dict]:
    """(traffic, schedule steps, ingest batch size, server environment) of the chosen mode."""
    if args.mode == "saturate":
        traffic = Traffic(events=args.batch, every_s=args.interval)
        return traffic, [(args.seconds, 1.0)], args.batch, NO_LIMITS
    traffic = Traffic(events=1, every_s=30.0, poisson=True, closed_loop=False, heartbeat_s=60.0, config_pull=True)
    if args.mode == "realistic":
        return traffic, [(args.seconds, 1.0)], 1, {}
    natural = args.devices * traffic.requests_per_s()
    steps = [(args.step_seconds, args.step_rps * (k + 1) / natural) for k in range(args.max_steps)]
    return traffic, steps, 1, NO_LIMITS


def step_line(rep, rate: float, step_s: float) -> tuple[str, str]:
    """A step's printed line and its verdict: "passed" (p99 <= 1 s, no error), "failed", or "behind" (the
    load generator's sends started more than UNJUDGEABLE_S late: the step says nothing about the server; a
    server at its knee takes the CPU a load generator on the same 2 cores needs, so smaller delays are only
    noted)."""
    lats = rep.answered + [1e9] * rep.waiting  # unanswered 1 s after the step: slower than 1 s
    p50, p99, late = percentile(lats, 50), percentile(lats, 99), percentile(rep.late, 99)
    verdict = "passed" if p99 <= 1.0 and rep.errors == 0 else "failed"
    if late > UNJUDGEABLE_S:
        verdict = "behind"
    shown = ms(p99) if p99 < 1e8 else f"> 1 s ({rep.waiting} unanswered 1 s after the step)"
    return (f"  step {rep.index + 1:2d}: offered {rate:6.0f}/s, sent {len(lats) / step_s:6.0f}/s, "
            f"p50 {ms(p50) if p50 < 1e8 else '> 1 s'}, p99 {shown}, errors {rep.errors}"
            + (f"; the load generator fell behind (sends p99 {ms(late)} late)" if late > BEHIND_S else "")), verdict


def drive(run: LoadRun, server: int, backends, args, steps, took: dict[str, float]) -> dict:
    """Run the kiosks; the measured window's figures (and, in the step mode, the steps and the knee)."""
    t0 = run.start()
    took["load processes start"] = time.perf_counter()
    time.sleep(max(0.0, t0 - time.monotonic()))
    cpu0, load0 = tree_cpu_s(server), sum(tree_cpu_s(p) for p in run.pids)
    if backends:
        backends.start()
        backends.polling()
    knee = {}
    if args.mode == "step":
        for rep in run.step_reports():
            rate = args.step_rps * (rep.index + 1)
            line, verdict = step_line(rep, rate, steps[rep.index][0])
            print(line, flush=True)
            lats = rep.answered + [1e9] * rep.waiting
            if verdict != "passed":
                knee[f"{verdict}_at"] = rate
                run.stop()
                break
            knee.update(rate=rate, sent=len(lats) / steps[rep.index][0], p50=percentile(lats, 50),
                        p99=percentile(lats, 99))
    t1 = run.wait_done()
    cpu1, load1 = tree_cpu_s(server), sum(tree_cpu_s(p) for p in run.pids)
    db = backends.used_s() if backends else None
    return {"seconds": t1 - t0, "server_cpu_s": cpu1 - cpu0, "load_cpu_s": load1 - load0, "db_cpu_s": db,
            "samples": run.samples(), "knee": knee}


def bench(kind: str, args) -> None:
    traffic, steps, size, env = plan(args)
    what = {"saturate": f"{args.devices} kiosks for {args.seconds:g} s, batches of {args.batch} events, one "
                        f"every {args.interval:g} s +-50 % after the answer (saturating)",
            "realistic": f"a busy hour of {args.devices} kiosks for {args.seconds:g} s: a press every 30 s "
                         f"each (Poisson), a heartbeat and config pull every 60 s; about "
                         f"{args.devices * traffic.requests_per_s():.0f} requests/s offered",
            "step": f"{args.devices} realistic kiosks sped up: +{args.step_rps:g} requests/s offered every "
                    f"{args.step_seconds:g} s until p99 > 1 s or errors"}[args.mode]
    print(f"\n-- {kind}, {args.workers} server worker(s): {what}", flush=True)
    tag = secrets.token_hex(4)
    took = {"start": time.perf_counter()}
    with tempfile.TemporaryDirectory(prefix="hymy-fleet-") as tmp:
        root = Path(tmp)
        with fleetdb.database(kind, root, "fleet") as url:
            t = time.perf_counter()
            members = fleetdb.organise(url, args.devices)
            print(f"  set-up (not measured): {len(members)} devices with tokens in "
                  f"{-(-len(members) // fleetdb.DEVICES_PER_STORE)} stores in {time.perf_counter() - t:.1f} s",
                  flush=True)
            took["set-up"] = time.perf_counter()
            half = 100 if args.quick else 250
            costs = [fleetfloor.measure(kind, root, size, half, warmup=50)]  # and as many after the run
            took["in-process costs before"] = time.perf_counter()
            log = root / "server.log"
            with server_process(fleetdb.tagged(url, f"fleet-server-{tag}"), env, log, workers=args.workers) as (base, pid):
                took["server start"] = time.perf_counter()
                held = etags(base, members) if traffic.config_pull else {}
                took["config ETags"] = time.perf_counter()
                kiosks = [Kiosk(i, m.token, address(i // fleetdb.DEVICES_PER_STORE), held.get(m.store_id))
                          for i, m in enumerate(members)]
                backends = fleetdb.Backends(url, f"fleet-server-{tag}") if kind == "postgres" else None
                try:
                    with LoadRun(base, kiosks, traffic, steps, args.procs, report_steps=args.mode == "step") as run:
                        w = drive(run, pid, backends, args, steps, took)
                        took["run"] = time.perf_counter()
                finally:
                    if backends:
                        backends.close()
                rss, hwm = rss_mb(pid)
            s = w["samples"]
            rows = fleetdb.stored(url, s.unanswered)
            w["server_errors"] = logged_errors(log)
            if args.server_log:
                shutil.copyfile(log, f"{args.server_log}.{kind}")
        costs.append(fleetfloor.measure(kind, root, size, half, warmup=50))
        ingest, floor = (fleetfloor.Cost.pooled([c[i] for c in costs]) for i in (0, 1))
        took["in-process costs after"] = time.perf_counter()
    report(kind, args, w, rows, (rss, hwm), ingest, floor, size, took)


def report(kind, args, w, rows, rss, ingest, floor, size, took: dict[str, float]) -> None:
    s, secs = w["samples"], w["seconds"]
    if s.crashed:
        raise SystemExit(f"{len(s.crashed)} simulated kiosks failed (a bug of the benchmark): {s.crashed[:3]}")
    n, answered_n = len(s.took), s.answered
    lat = summarize(s.took)
    routes = {r: [x for x, rr in zip(s.took, s.route, strict=True) if rr == r] for r in dict.fromkeys(s.route)}
    print(f"  requests:          {answered_n:,} answered in {secs:.1f} s = {answered_n / secs:,.1f}/s; {n:,} sent ("
          + ", ".join(f"{r} {len(v):,}" for r, v in routes.items()) + ")")
    print(f"  latency p50 / p99: {ms(lat.p50)} / {ms(lat.p99)} (max {ms(lat.max)})"
          + "".join(f"; {r} {ms(percentile(v, 50))} / {ms(percentile(v, 99))}" for r, v in routes.items()
                    if len(routes) > 1))
    print(f"  errors:            {s.errors} (HTTP {dict(s.http) or 'none'}, no answer {dict(s.transport) or 'none'}, "
          f"rejected events {s.rejected}; batches never answered: {s.given_up})")
    for name, text in s.examples.items():
        print(f"    e.g. {name}: {text}")
    logged = w["server_errors"]
    print(f"  server log:        {sum(logged.values())} exceptions" + "".join(
        f"\n    {n} x {text}" for text, n in logged.most_common(3)))
    answered = s.accepted + s.duplicate
    expected = answered + rows.of_unanswered
    print(f"  events:            accepted {s.accepted:,}, duplicate {s.duplicate:,}, never answered "
          f"{len(s.unanswered):,} ({rows.of_unanswered} of them stored); rows in the database {rows.responses:,}"
          + (": every answered event stored, once" if rows.responses == expected else ": MISMATCH"))
    per_req = w["server_cpu_s"] / answered_n * 1000 if answered_n else math.nan
    print(f"  server CPU:        {w['server_cpu_s']:.2f} s = {w['server_cpu_s'] / secs:.2f} of a core = "
          f"{per_req:.2f} ms per answered request (its process tree, /proc)")
    if w["db_cpu_s"] is not None:
        print(f"  PostgreSQL CPU:    {w['db_cpu_s']:.2f} s = {w['db_cpu_s'] / max(answered_n, 1) * 1000:.2f} ms per "
              "answered request (the backends of the server's connections)")
    elif kind == "postgres":
        print("  PostgreSQL CPU:    not measurable (its processes are not visible on this machine)")
    print(f"  load generator:    {args.procs} processes, {w['load_cpu_s'] / max(n, 1) * 1000:.2f} ms CPU per request "
          f"sent; idle kiosks' sends started late by p50 {ms(percentile(s.lag, 50))}, p99 {ms(percentile(s.lag, 99))}")
    if percentile(s.lag, 99) > BEHIND_S:
        print(f"  WARNING:           the load generator fell behind (idle kiosks' sends p99 {ms(percentile(s.lag, 99))} "
              "late): this machine was too busy; requests/s and latencies are not the server's alone")
    print(f"  server memory:     RSS {rss[0]:.0f} MiB at the end, peak {rss[1]:.0f} MiB")

    def cost(c) -> str:
        db = "" if c.db_cpu_ms is None else f", PostgreSQL backend {c.db_cpu_ms:.3f} ms"
        parts = " / ".join(f"{x:.3f}" for x in c.parts)
        return f"{c.cpu_ms:.3f} ms CPU per batch (before / after the fleet {parts}; wall {c.wall_ms:.3f} ms{db})"

    print(f"  ingest() in-process, {size}-event batches: {cost(ingest)}; {ingest.batches} batches, each half "
          "after 50 warm-up")
    print(f"  bare driver floor, same rows (event ids, responses) + rollup upserts: {cost(floor)}")
    ratio = per_req / ingest.cpu_ms
    print(f"  ratios:            server CPU per request / ingest() CPU per batch = {ratio:.2f} (target <= 1.5); "
          f"floor / ingest() CPU = {floor.cpu_ms / ingest.cpu_ms:.0%} (target >= 50 %)")
    if rows.responses != expected:
        raise SystemExit(f"{kind}: {expected} events answered accepted/duplicate (or stored unanswered) but "
                         f"{rows.responses} rows stored")
    costs = {"server_cpu_ms_per_request": round(per_req, 3), "ingest_cpu_ms_per_batch": round(ingest.cpu_ms, 3),
             "floor_cpu_ms_per_batch": round(floor.cpu_ms, 3), "cpu_ratio": round(ratio, 2)}
    db = "postgres" if kind == "postgres" else "sqlite"
    if args.mode == "step":
        k = w["knee"]
        then = (f"at {k['failed_at']:g} offered p99 passed 1 s or errors appeared" if "failed_at" in k else
                f"at {k['behind_at']:g} offered the load generator fell behind: the knee is higher, not found"
                if "behind_at" in k else f"no step failed up to {args.max_steps} steps: the knee is higher")
        if k.get("rate"):
            print(f"  knee:              {k['sent']:.0f} requests/s ({k['rate']:g} offered): p99 {ms(k['p99'])}; {then}")
        else:
            print(f"  knee:              none passed; {then}")
        out = {"db": db, "mode": "step", "knee_requests_per_s": round(k["sent"], 1) if k.get("rate") else 0,
               "knee_p50_ms": round(k["p50"] * 1000, 1) if k.get("rate") else None,
               "knee_p99_ms": round(k["p99"] * 1000, 1) if k.get("rate") else None,
               "failed_at_requests_per_s": k.get("failed_at"), "behind_at_requests_per_s": k.get("behind_at"),
               **costs}
    else:
        out = {"db": db, "requests_per_s": round(answered_n / secs, 1), "p50_ms": round(lat.p50 * 1000, 1),
               "p99_ms": round(lat.p99 * 1000, 1), "errors": s.errors, **costs}
    marks = list(took.items())
    print(f"  this section took: {marks[-1][1] - marks[0][1]:.0f} s ("
          + ", ".join(f"{name} {t - marks[i][1]:.1f} s" for i, (name, t) in enumerate(marks[1:])) + ")")
    print(json.dumps(out), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--realistic", dest="mode", action="store_const", const="realistic",
                      help="a busy hour: a press every 30 s per kiosk, heartbeat + config pull every 60 s")
    mode.add_argument("--step", dest="mode", action="store_const", const="step",
                      help="raise the offered rate step by step until p99 passes 1 s or errors appear")
    ap.set_defaults(mode="saturate")
    ap.add_argument("--quick", action="store_true", help="about a minute or two per database")
    ap.add_argument("--devices", type=int, help="simulated kiosks (default 1000, --quick 200; realistic/step 10000)")
    ap.add_argument("--seconds", type=float, help="sending time (default 30, --quick 8; realistic 120, --quick 30)")
    ap.add_argument("--batch", type=int, default=5, help="saturating mode: events per request (default 5)")
    ap.add_argument("--interval", type=float, default=1.0,
                    help="saturating mode: seconds between a kiosk's answer and its next request, +-50%% (default 1)")
    ap.add_argument("--step-rps", type=float, default=50.0, help="step mode: requests/s added per step (default 50)")
    ap.add_argument("--step-seconds", type=float, help="step mode: seconds per step (default 10, --quick 5)")
    ap.add_argument("--max-steps", type=int, default=40, help="step mode: most steps (default 40)")
    ap.add_argument("--procs", type=int, default=2, help="load generator processes (default 2)")
    ap.add_argument("--workers", type=int, default=1, help="the server's worker processes (hymy server --workers; default 1)")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--server-log", metavar="PATH", help="keep the server's output as PATH.sqlite / PATH.postgres")
    args = ap.parse_args()
    fleet = args.mode != "saturate"
    args.devices = args.devices or (10_000 if fleet else 200 if args.quick else 1000)
    args.seconds = args.seconds or {"saturate": 8.0 if args.quick else 30.0,
                                    "realistic": 30.0 if args.quick else 120.0, "step": 0.0}[args.mode]
    args.step_seconds = args.step_seconds or (5.0 if args.quick else 10.0)
    if args.devices > fleetdb.DEVICES_PER_STORE * 250 * 250:
        raise SystemExit("--devices: too many for the 127.77.x.y source addresses (at most 3,125,000)")
    print(f"fleet: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load generator: {args.procs} processes")
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        if kind == "postgres" and not os.environ.get("HYMY_TEST_POSTGRES_URL"):
            print("\n-- postgres: skipped (set HYMY_TEST_POSTGRES_URL=postgresql+psycopg://user:pw@127.0.0.1/db)")
            continue
        bench(kind, args)


if __name__ == "__main__":
    main()
