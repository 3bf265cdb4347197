"""Dashboard page times at chain scale: server time p50/p95 per page.

Builds (or reuses) a SQLite server database holding N stored responses over S stores and D days
(default 10 million over 100 stores and two years; ``--quick``: 200,000 over 10 stores and 90 days),
with the rollups (hourly, daily, per region), follow-ups and comments the server's ingest would have written, then requests every
dashboard page in-process through the real app (routing, auth, queries, templates) and prints p50/p95
per page beside /healthz measured in the same run (the floor: an app round trip that does nothing).
Target: p95 < 100 ms for every page.

    .venv/bin/python bench/dashboard.py [--quick] [--responses N] [--stores S] [--days D] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from timings import Summary, summarize, time_ms  # bench/timings.py: this folder is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hymy.hours import zone  # noqa: E402
from hymy.timestamps import format_ts  # noqa: E402

PASSWORD = "bench-password-123"
TZ = "Europe/Helsinki"
REASONS = ["queue", "service", "selection", "price", "cleanliness"]
PRAISE = ["staff", "speed", "tidy"]


def build(db: Path, responses: int, stores: int, days: int, seed: int = 1) -> None:
    """Create the schema with the server's migrations, then fill it with bulk inserts (fast, not ingest)."""
    from server import admin, auth
    from server.app import create_app
    from server.dashboard.sample import store_config
    from server.settings import Settings

    settings = Settings(database_url=f"sqlite:///{db}")
    app = create_app(settings)
    engine = app.state.engine
    regions = [admin.create_region(engine, f"Alue {i + 1}") for i in range(max(1, stores // 10))]
    store_ids = [admin.create_store(engine, f"Myymälä {i + 1:03d}", region_id=regions[i % len(regions)],
                                    config=store_config("x")) for i in range(stores)]
    for sid in store_ids:
        new = admin.create_device(engine, sid, "Uloskäynti")
        admin.enroll(engine, new.code, app_version="0.1.0")
    auth.create_user(engine, "admin", PASSWORD, "admin")
    auth.create_user(engine, "region", PASSWORD, "regional_manager", regions=[regions[0]])
    auth.create_user(engine, "store", PASSWORD, "store_manager", stores=[store_ids[0]])
    auth.create_user(engine, "tech", PASSWORD, "technician")
    engine.dispose()

    rng = random.Random(seed)
    z = zone(TZ)
    today = datetime.now(UTC).astimezone(z).date()
    per_store_day = responses / (stores * days)
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()
    made = 0
    hour_cache: dict[tuple[date, int], tuple[str, str]] = {}
    region_of = dict(con.execute("SELECT id, region_id FROM stores").fetchall())
    region_daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for si, sid in enumerate(store_ids):
        dev = con.execute("SELECT id FROM devices WHERE store_id=?", (sid,)).fetchone()[0]
        bias = rng.uniform(-0.08, 0.08)
        rows, frows = [], []
        roll: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        froll: dict[tuple, int] = defaultdict(int)
        remaining = responses - made
        store_target = remaining // (stores - si)
        for back in range(days - 1, -1, -1):
            day = today - timedelta(days=back)
            n = int(store_target / (back + 1)) if back == 0 else int(per_store_day * rng.uniform(0.6, 1.4))
            n = min(n, store_target)
            store_target -= n
            for _ in range(n):
                hour = int(rng.triangular(8, 21, 15))
                key = (day, hour)
                hb = hour_cache.get(key)
                if hb is None:
                    local = datetime.combine(day, dtime(hour), tzinfo=z)
                    hb = hour_cache[key] = (day.isoformat(), format_ts(local.astimezone(UTC)))
                local_date, hour_utc = hb
                pressed = hour_utc[:14] + f"{rng.randrange(60):02d}:{rng.randrange(60):02d}.000Z"
                r = rng.random()
                mood = 1 if r < 0.07 + bias else 2 if r < 0.16 + bias else 3 if r < 0.45 else 4
                flags = "repeat" if rng.random() < 0.03 else ""
                rid = f"{made:08x}-0000-7000-8000-{si:012x}"
                made += 1
                rows.append((rid, sid, dev, "q-default", mood, 4, "touch", pressed, local_date, hour_utc, 1, "b", 1,
                             flags, "0.1.0", 0, 0, pressed, "h"))
                roll[(local_date, hour_utc, mood)][1 if flags else 0] += 1
                if not flags and mood <= 2 and rng.random() < 0.6:
                    reason = REASONS[int(rng.random() ** 1.6 * 5)]
                    frows.append((rid.replace("-7000-", "-7001-"), sid, dev, rid, "reason", reason, pressed, local_date,
                                  hour_utc, pressed, "h"))
                    froll[(local_date, hour_utc, "reason", reason)] += 1
                elif not flags and mood == 4 and rng.random() < 0.35:  # praise, as the sample's stores ask it
                    praise = PRAISE[int(rng.random() ** 1.4 * 3)]
                    frows.append((rid.replace("-7000-", "-7003-"), sid, dev, rid, "praise", praise, pressed, local_date,
                                  hour_utc, pressed, "h"))
                    froll[(local_date, hour_utc, "praise", praise)] += 1
                    if rng.random() < 0.06:
                        frows.append((rid.replace("-7000-", "-7002-"), sid, dev, rid, "comment",
                                      "Kiitos hyvästä palvelusta!", pressed, local_date, hour_utc, pressed, "h"))
            if len(rows) > 200_000:
                _flush(con, rows, frows)
                rows, frows = [], []
        _flush(con, rows, frows)
        con.executemany("INSERT INTO rollup_hourly (store_id, local_date, hour_utc, scale, mood, counted, filtered) "
                        "VALUES (?,?,?,4,?,?,?)", [(sid, d, h, m, c[0], c[1]) for (d, h, m), c in roll.items()])
        daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])  # ingest keeps the per-day rollups too
        for (d, _h, m), c in roll.items():
            daily[(d, m)][0] += c[0]
            daily[(d, m)][1] += c[1]
            region_daily[(region_of[sid], d, m)][0] += c[0]
            region_daily[(region_of[sid], d, m)][1] += c[1]
        con.executemany("INSERT INTO rollup_daily (store_id, local_date, scale, mood, counted, filtered) "
                        "VALUES (?,?,4,?,?,?)", [(sid, d, m, c[0], c[1]) for (d, m), c in daily.items()])
        con.executemany("INSERT INTO rollup_followups (store_id, local_date, hour_utc, kind, value, n) VALUES (?,?,?,?,?,?)",
                        [(sid, d, h, k, v, n) for (d, h, k, v), n in froll.items()])
        con.commit()
        if si % 10 == 9:
            print(f"  filled {si + 1}/{stores} stores, {made:,} responses, {time.perf_counter() - t0:.0f} s", flush=True)
    con.executemany("INSERT INTO rollup_region_daily (region_id, local_date, scale, mood, counted, filtered) "
                    "VALUES (?,?,4,?,?,?)", [(r, d, m, c[0], c[1]) for (r, d, m), c in region_daily.items()])
    con.execute("ANALYZE")
    con.commit()
    con.close()
    (db.parent / (db.name + ".json")).write_text(json.dumps({"responses": made, "stores": stores, "days": days,
                                                            "praise": True}))


def _flush(con, rows, frows) -> None:
    con.executemany(
        "INSERT INTO responses (id, store_id, device_id, question_id, mood, scale, source, pressed_at, local_date, "
        "hour_utc, clock_synced, boot_id, uptime_ms, flags, app_version, clock_corrected, voided, received_at, "
        "content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.executemany(
        "INSERT INTO followups (id, store_id, device_id, response_id, kind, value, pressed_at, local_date, hour_utc, "
        "received_at, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", frows)


def measure(db: Path, repeats: int) -> None:
    import re

    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{db}", secure_cookies=False))
    engine = app.state.engine
    with engine.connect() as conn:
        first_store = conn.exec_driver_sql("SELECT id FROM stores ORDER BY name LIMIT 1").scalar()
        region = conn.exec_driver_sql("SELECT id FROM regions ORDER BY id LIMIT 1").scalar()
        n_stores = conn.exec_driver_sql("SELECT count(*) FROM stores").scalar()
    csrf = re.compile(r'name="csrf_token" value="([^"]+)"')

    def client_for(user: str) -> TestClient:
        c = TestClient(app)
        page = c.get("/login")
        r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": csrf.search(page.text).group(1)},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        return c

    clients = {u: client_for(u) for u in ("admin", "region", "store", "tech")}
    clients["screen"] = TestClient(app)  # a staff-room screen: no sign-in, only its link
    from server.dashboard.team_links import create_link

    _link, team_token = create_link(engine, first_store, "Bench screen", None)
    pages = [
        ("floor: /healthz", "store", "/healthz"),
        ("today (store manager, 1 store)", "store", "/today"),
        ("today (regional, 10 stores)", "region", "/today"),
        (f"today (admin, {n_stores} stores)", "admin", "/today"),
        ("today.json live poll (regional)", "region", "/today.json"),
        ("day detail", "store", f"/stores/{first_store}/day"),
        ("trends 30 d", "store", f"/stores/{first_store}/trends?days=30"),
        ("trends 90 d", "store", f"/stores/{first_store}/trends?days=90"),
        ("trends 365 d", "store", f"/stores/{first_store}/trends?days=365"),
        ("heat map 90 d", "store", f"/stores/{first_store}/heatmap?days=90"),
        ("heat map 365 d", "store", f"/stores/{first_store}/heatmap?days=365"),
        ("compare region 30 d", "region", f"/compare?region={region}&days=30"),
        ("compare region 365 d", "region", f"/compare?region={region}&days=365"),
        (f"compare all {n_stores} stores 30 d", "admin", "/compare?days=30"),
        ("reasons 30 d (regional)", "region", "/reasons"),
        ("praise 30 d (regional)", "region", "/praise"),
        ("praise 30 d (store manager)", "store", "/praise"),
        ("team screen (no sign-in)", "screen", f"/team/{team_token}"),
        ("team screen live poll", "screen", f"/team/{team_token}/live.json"),
        ("devices (technician, all)", "tech", "/devices"),
        ("admin stores", "admin", "/admin"),
        ("admin store settings", "admin", f"/admin/stores/{first_store}"),
        ("account", "store", "/account"),
    ]

    def page_ms(c: TestClient, path: str) -> Summary:
        """Milliseconds of ``repeats`` requests of ``path``, each of which must answer 200."""
        codes: list[int] = []
        ms = summarize(time_ms(lambda: codes.append(c.get(path).status_code), repeats))
        assert codes == [200] * repeats, (path, codes)
        return ms

    print(f"{'page':40s} {'p50 ms':>8s} {'p95 ms':>8s} {'x floor':>8s}")
    floor = None
    worst = 0.0
    for name, user, path in pages:
        c = clients[user]
        assert c.get(path).status_code == 200, path  # warm-up
        ms = page_ms(c, path)
        p50, p95 = ms.p50, ms.p95
        if floor is None:
            floor = p50
        else:
            worst = max(worst, p95)
        print(f"{name:40s} {p50:8.1f} {p95:8.1f} {p50 / floor:8.1f}")
    print(f"worst page p95: {worst:.1f} ms (target < 100 ms): {'MET' if worst < 100 else 'NOT MET'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200,000 responses, 10 stores, 90 days; fewer repeats")
    ap.add_argument("--responses", type=int, default=None, help="stored responses (default 10,000,000)")
    ap.add_argument("--stores", type=int, default=None, help="stores (default 100)")
    ap.add_argument("--days", type=int, default=None, help="days of history (default 730)")
    ap.add_argument("--repeats", type=int, default=None, help="requests per page (default 40; quick 15)")
    ap.add_argument("--db", type=Path, default=None, help="database file (reused when it holds the same size)")
    a = ap.parse_args()
    responses = a.responses or (200_000 if a.quick else 10_000_000)
    stores = a.stores or (10 if a.quick else 100)
    days = a.days or (90 if a.quick else 730)
    repeats = a.repeats or (15 if a.quick else 40)
    db = a.db or ROOT / "build" / f"bench-dashboard-{responses}-{stores}-{days}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    meta = db.parent / (db.name + ".json")
    want = {"responses": responses, "stores": stores, "days": days, "praise": True}
    if not (db.exists() and meta.exists() and json.loads(meta.read_text()) == want):
        for p in (db, meta, Path(str(db) + "-wal"), Path(str(db) + "-shm")):
            p.unlink(missing_ok=True)
        print(f"building {db} ...", flush=True)
        t0 = time.perf_counter()
        build(db, responses, stores, days)
        print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)
    size_mb = db.stat().st_size / 1e6
    print(f"size used: {responses:,} responses, {stores} stores, {days} days; SQLite file {size_mb:,.0f} MB; "
          f"{repeats} requests per page, in-process (no network)")
    measure(db, repeats)


if __name__ == "__main__":
    main()
