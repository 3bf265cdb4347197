"""Alert benchmark: how fast a crossing press becomes a webhook, and what exact rule evaluation costs.

    python bench/alerts.py [--quick] [--rounds N] [--dir PATH]

1. **press -> webhook** on a real server (Uvicorn on loopback, SQLite file): each round posts, through
   the device API, the press that crosses a store's default rule and times until a local HTTP
   receiver has the signed webhook. Baseline in the same run: the same POST's own round trip (the
   ingest the hook waits for). Each round uses its own store, so every round is a fresh episode.
   Issue 8 requires the webhook within 5 s; prints p50 / p95 / max in ms and the ratio to the POST.
2. **evaluate** (``hymy.rules.evaluate``, exact fractions) of one rule over windows of 10, 100 and 1000
   counted presses against ``hymy.score.score_counts`` of the same presses (the float Happy Index the
   dashboard computes): microseconds per evaluation and the ratio.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from timings import summarize  # bench/timings.py: this folder is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from hymy.protocol import AlertRule, default_store_config  # noqa: E402
from hymy.rules import Press, evaluate  # noqa: E402
from hymy.score import score_counts  # noqa: E402
from hymy.timestamps import format_ts, utcnow  # noqa: E402
from kiosk.capture import new_id  # noqa: E402
from server import admin  # noqa: E402
from server.alerts.tables import alert_channels  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.testing import serve  # noqa: E402
from tests.alerts.servers import WebhookReceiver  # noqa: E402


def event(mood: int, at) -> dict:
    return {"type": "response", "id": new_id(), "question_id": "q-default", "mood": mood, "scale": 4,
            "source": "button", "pressed_at": format_ts(at), "clock_synced": True, "boot_id": "bench",
            "uptime_ms": 1, "flags": [], "app_version": "bench"}


def bench_webhook(rounds: int, workdir: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{workdir}/bench.db", secure_cookies=False, device_rate_per_min=0,
                        ip_rate_per_min=0, smtp=None, background_jobs=False)
    cfg = default_store_config().model_dump(mode="json")
    cfg.pop("store_id")
    cfg["alert_rules"] = [AlertRule(id="unhappy", kind="negative_share").model_dump(mode="json")]
    post_ms, hook_ms = [], []
    with WebhookReceiver() as rx, serve(settings) as running, httpx.Client(base_url=running.base_url) as http:
        engine = running.app.state.engine
        for i in range(rounds):
            sid = admin.create_store(engine, f"Bench {i}", config=cfg)
            with engine.begin() as conn:
                conn.execute(alert_channels.insert().values(store_id=sid, webhook_url=rx.url, webhook_secret="k"))
            code = admin.create_device(engine, sid).code
            _, token, _ = admin.enroll(engine, code)  # (the HTTP enrol endpoint is rate-limited)
            auth = {"Authorization": f"Bearer {token}"}
            now = utcnow()
            # three presses, one unhappy: below the rule; then the crossing one
            r = http.post("/api/v1/responses", headers=auth, json={"events": [
                event(m, now - timedelta(seconds=5 - k)) for k, m in enumerate((4, 3, 1))]})
            r.raise_for_status()
            seen = len(rx.requests)
            t0 = time.monotonic()
            r = http.post("/api/v1/responses", headers=auth, json={"events": [event(2, now)]})
            t1 = time.monotonic()
            r.raise_for_status()
            got = rx.wait_for(seen + 1, timeout_s=10)
            if len(got) <= seen:
                raise SystemExit(f"round {i}: no webhook within 10 s")
            assert json.loads(got[seen].body)["alert"]["store_id"] == sid
            post_ms.append((t1 - t0) * 1000)
            hook_ms.append((got[seen].at - t0) * 1000)
    print(f"press -> webhook, {rounds} rounds (SQLite, loopback):")
    post, hook = summarize(post_ms), summarize(hook_ms)
    for label, s in (("POST /api/v1/responses round trip ", post), ("crossing press -> webhook received", hook)):
        print(f"  {label} p50 {s.p50:7.1f} ms  p95 {s.p95:7.1f} ms  max {s.max:7.1f} ms")
    print(f"  ratio webhook p95 / POST p95: {hook.p95 / post.p95:.2f}x   "
          f"(requirement: within 5000 ms; worst was {hook.max:.0f} ms)")


def bench_evaluate(repeats: int) -> None:
    rule = AlertRule(id="low", kind="index_below", threshold=50, min_count=4, window_min=60)
    now = utcnow()
    print("rule evaluation (exact) vs score_counts (float), per call:")
    for n in (10, 100, 1000):
        presses = [Press(at=now - timedelta(seconds=3 * k), mood=1 + k % 4, scale=4) for k in range(n)]
        counts = Counter(p.mood for p in presses)
        reps = max(10, repeats // n)
        t0 = time.perf_counter()
        for _ in range(reps):
            evaluate(rule, presses, now)
        t_eval = (time.perf_counter() - t0) / reps
        t0 = time.perf_counter()
        for _ in range(reps):
            score_counts(Counter(p.mood for p in presses))
        t_score = (time.perf_counter() - t0) / reps
        assert score_counts(counts).n == n
        print(f"  window of {n:5d} presses: evaluate {t_eval * 1e6:9.1f} us   score_counts {t_score * 1e6:9.1f} us   "
              f"ratio {t_eval / t_score:5.1f}x")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.ERROR)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (about 20 seconds)")
    ap.add_argument("--rounds", type=int, default=None, help="press -> webhook rounds (default 60, quick 15)")
    ap.add_argument("--dir", type=Path, default=None, help="where the SQLite file goes (default a temp dir)")
    args = ap.parse_args(argv)
    rounds = args.rounds or (15 if args.quick else 60)
    with tempfile.TemporaryDirectory(prefix="hymy-bench-alerts-", dir=args.dir) as d:
        bench_webhook(rounds, Path(d))
    bench_evaluate(20_000 if args.quick else 200_000)


if __name__ == "__main__":
    main()
