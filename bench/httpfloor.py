"""The floor of the HTTP stack: server CPU per request of an app that does nothing but what any answer to a
batch must do, under uvicorn with ``hymy server``'s settings, driven by bench/fleet.py's load generator.

Prints figures; asserts nothing.

    python bench/httpfloor.py [--devices N] [--seconds S] [--procs N] [--variants asgi,asgi-nolog,fastapi]

Each variant runs in a process of its own (``python bench/httpfloor.py --serve ...``: uvicorn with
httptools and uvloop as ``hymy server`` picks them, ``log_level="info"``, the proxy headers, its output in a
log file as the fleet's server) answering ``POST /api/v1/responses``: read the gzip body, decompress,
parse the JSON, answer ``{"results": [{"id", "status": "accepted"}, ...]}``. No database, no auth. The
kiosks are the fleet's saturating ones (``fleetload``: the sync agent's own batch bodies, keep-alive,
one request at a time, 5-event batches, 1 s +-50 % after each answer). Variants:

- ``asgi``: a bare ASGI callable, uvicorn's access log on (as ``hymy server`` runs by default);
- ``asgi-nolog``: the same, uvicorn's access log off: the difference is the access log's cost;
- ``fastapi``: the same work as one ``async def`` FastAPI route (a ``Request`` parameter, no model):
  the difference to ``asgi`` is the framework's own cost per request (routing, the middleware stack,
  exception layers), before any dependency or validation.

Per variant: requests/s, p50/p99, and the server process's CPU per request (``/proc``, user + system,
its whole tree), with the load average. ``server CPU per request / ingest() CPU per batch`` can never be
less than ``(floor + ingest) / ingest`` on this stack: that is what this script tells.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from timings import percentile, tree_cpu_s  # bench/ is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = ("asgi", "asgi-nolog", "fastapi")


def answer(raw: bytes, gzipped: bool) -> bytes:
    """The minimal answer to a batch body: every event id accepted."""
    data = json.loads(zlib.decompress(raw, 47) if gzipped else raw)
    return json.dumps({"results": [{"id": e["id"], "status": "accepted"} for e in data["events"]]},
                      separators=(",", ":")).encode()


async def floor_app(scope, receive, send) -> None:
    """A bare ASGI app: the batch answer for any POST, 200 ``ok`` for anything else; lifespan accepted."""
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            await send({"type": msg["type"] + ".complete"})
            if msg["type"] == "lifespan.shutdown":
                return
    body = b"ok"
    if scope["method"] == "POST":
        raw, more = b"", True
        while more:
            msg = await receive()
            raw += msg.get("body", b"")
            more = msg.get("more_body", False)
        body = answer(raw, (b"content-encoding", b"gzip") in scope["headers"])
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def fastapi_app():
    app = FastAPI()

    @app.post("/api/v1/responses")
    async def responses(request: Request) -> Response:
        gz = request.headers.get("content-encoding") == "gzip"
        return Response(answer(await request.body(), gz), media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b"ok")

    return app


def serve(port: int, variant: str) -> None:
    """Run ``variant`` under uvicorn as ``hymy server`` runs the real app (server/cli.py)."""
    import uvicorn

    app = fastapi_app() if variant == "fastapi" else floor_app
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info", proxy_headers=True,
                forwarded_allow_ips="127.0.0.1", access_log=variant != "asgi-nolog")


def measure(variant: str, args, log: Path) -> dict:
    import httpx
    from fleet import address
    from fleetload import Kiosk, Traffic
    from fleetrun import LoadRun

    from hymy import children
    from server.testing import free_port

    port = free_port()
    with open(log, "wb") as out:
        proc = children.popen([sys.executable, __file__, "--serve", str(port), "--variant", variant],
                              stdout=out, stderr=out)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(base + "/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        kiosks = [Kiosk(i, "floor", address(i // 50)) for i in range(args.devices)]
        with LoadRun(base, kiosks, Traffic(events=5, every_s=1.0), [(args.seconds, 1.0)], args.procs) as run:
            t0 = run.start()
            time.sleep(max(0.0, t0 - time.monotonic()))
            cpu0, load0 = tree_cpu_s(proc.pid), os.getloadavg()[0]
            t1 = run.wait_done()
            cpu1 = tree_cpu_s(proc.pid)
            s = run.samples()
    finally:
        proc.terminate()
        proc.wait(10)
    n = s.answered
    return {"variant": variant, "requests_per_s": round(n / (t1 - t0), 1),
            "p50_ms": round(percentile(s.took, 50) * 1000, 1), "p99_ms": round(percentile(s.took, 99) * 1000, 1),
            "errors": s.errors, "server_cpu_ms_per_request": round((cpu1 - cpu0) / max(n, 1) * 1000, 3),
            "load_average": round((load0 + os.getloadavg()[0]) / 2, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=200, help="simulated kiosks (default 200, as fleet --quick)")
    ap.add_argument("--seconds", type=float, default=8.0, help="sending time per variant (default 8)")
    ap.add_argument("--procs", type=int, default=2, help="load generator processes (default 2)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    ap.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    ap.add_argument("--variant", default="asgi", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.variant)
        return
    print(f"httpfloor: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {args.devices} kiosks, {args.seconds:g} s each")
    with tempfile.TemporaryDirectory(prefix="hymy-httpfloor-") as tmp:
        for variant in args.variants.split(","):
            r = measure(variant, args, Path(tmp) / f"{variant}.log")
            print(f"  {variant:11s} {r['requests_per_s']:7.1f} requests/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                  f"errors {r['errors']}, server CPU {r['server_cpu_ms_per_request']:.3f} ms per request "
                  f"(load average {r['load_average']})", flush=True)
            print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
