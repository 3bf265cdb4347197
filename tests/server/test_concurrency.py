"""Concurrency and scale-out on real Uvicorn servers: nothing lost, nothing doubled."""

from __future__ import annotations

import random
import secrets
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from server import admin
from server import tables as t
from server.db import make_engine
from server.migrate import upgrade
from server.settings import Settings
from server.testing import run_server, run_server_process

from .conftest import followup, press, schema_url

START = datetime(2026, 11, 20, 8, tzinfo=UTC)


def batches(n_batches: int, size: int, seed: int) -> list[list[dict]]:
    rnd = random.Random(seed)
    out = []
    for b in range(n_batches):
        evs = []
        for i in range(size):
            ev = press(rnd.randint(1, 4), at=START + timedelta(minutes=7 * (b * size + i)),
                       flags=["repeat"] if rnd.random() < 0.1 else [])
            evs.append(ev)
            if rnd.random() < 0.2:
                evs.append(followup(ev["id"], "reason", rnd.choice(["queue", "price"]), at=START))
        out.append(evs)
    return out


def enrol(base: str, engine, store_id: str) -> dict:
    code = admin.create_device(engine, store_id).code
    token = httpx.post(base + "/api/v1/enroll", json={"code": code}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def stored_counts(engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        r = conn.execute(select(func.count()).select_from(t.responses)).scalar()
        f = conn.execute(select(func.count()).select_from(t.followups)).scalar()
        counted = conn.execute(select(func.coalesce(func.sum(t.rollup_hourly.c.counted), 0))).scalar()
        filtered = conn.execute(select(func.coalesce(func.sum(t.rollup_hourly.c.filtered), 0))).scalar()
    return r, f, int(counted), int(filtered)


@pytest.mark.slow
def test_concurrency_ten_clients_replaying_same_batches(settings):
    plan = batches(6, 50, seed=1)
    distinct_r = sum(1 for b in plan for e in b if e["type"] == "response")
    distinct_f = sum(1 for b in plan for e in b if e["type"] == "followup")
    repeats = sum(1 for b in plan for e in b if e.get("flags"))
    with run_server(settings) as base:
        engine = make_engine(settings.database_url)
        admin.create_store(engine, "Busy", store_id="busy")
        headers = enrol(base, engine, "busy")
        errors: list[str] = []
        statuses: list[str] = []
        reasons: list[str | None] = []
        barrier = threading.Barrier(10)

        def client(i: int) -> None:
            order = list(plan)
            random.Random(i).shuffle(order)
            with httpx.Client(base_url=base, timeout=60) as c:
                barrier.wait()
                for b in order:
                    r = c.post("/api/v1/responses", json={"events": b}, headers=headers)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                        continue
                    statuses.extend(x["status"] for x in r.json()["results"])
                    reasons.extend(x["reason"] for x in r.json()["results"])

        threads = [threading.Thread(target=client, args=(i,)) for i in range(10)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert not errors
        assert statuses.count("accepted") == distinct_r + distinct_f
        assert "rejected" not in statuses, [s for s in reasons if s]
        assert stored_counts(engine) == (distinct_r, distinct_f, distinct_r - repeats, repeats)
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2], ids=["1-worker", "2-workers"])
def test_scaleout_two_processes_share_one_postgresql(postgres_url, workers):
    """Two instances (each ``hymy server --workers N``) on one PostgreSQL: every batch sent to one and
    replayed on the other; nothing lost or doubled, both answer the same figures."""
    schema = "t_" + secrets.token_hex(6)
    root = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with root.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = schema_url(postgres_url, schema)
    try:
        engine = make_engine(db)
        upgrade(engine)
        for sid in ("a", "b", "c", "d"):
            admin.create_store(engine, f"Store {sid}", store_id=sid)
        env = {"HYMY_DEVICE_RATE": "0", "HYMY_IP_RATE": "0"}
        with run_server_process(db, env, 60, workers=workers) as one, \
                run_server_process(db, env, 60, workers=workers) as two:
            devices = {sid: enrol(one if sid in "ab" else two, engine, sid) for sid in "abcd"}
            plans = {sid: batches(4, 40, seed=ord(sid)) for sid in "abcd"}

            def device(sid: str) -> None:
                for i, b in enumerate(plans[sid]):
                    # each batch goes to one server and is replayed on the other: a retry after a lost answer
                    first, second = (one, two) if i % 2 else (two, one)
                    for base in (first, second):
                        r = httpx.post(base + "/api/v1/responses", json={"events": b}, headers=devices[sid], timeout=60)
                        assert r.status_code == 200, r.text

            threads = [threading.Thread(target=device, args=(sid,)) for sid in "abcd"]
            for th in threads:
                th.start()
            for th in threads:
                th.join(120)
            n_r = sum(1 for p in plans.values() for b in p for e in b if e["type"] == "response")
            n_f = sum(1 for p in plans.values() for b in p for e in b if e["type"] == "followup")
            r, f, counted, filtered = stored_counts(engine)
            assert (r, f, counted + filtered) == (n_r, n_f, n_r)
            from server import auth

            user = auth.create_user(engine, "boss", "pw-pw-pw-pw", "admin")
            token = auth.create_api_token(engine, user)
            h = {"Authorization": f"Bearer {token}"}
            for sid in "abcd":
                q = {"from": "2026-11-19", "to": "2026-11-30"}
                ra = httpx.get(f"{one}/api/v1/stores/{sid}/daily", params=q, headers=h).json()
                rb = httpx.get(f"{two}/api/v1/stores/{sid}/daily", params=q, headers=h).json()
                assert ra == rb and ra["total"]["n"] + ra["total"]["filtered"] == sum(
                    1 for b in plans[sid] for e in b if e["type"] == "response")
        engine.dispose()
    finally:
        with root.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        root.dispose()


def test_run_server_serves_health(tmp_path):
    with run_server(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}")) as base:
        assert httpx.get(base + "/healthz").text == "ok"
        assert httpx.get(base + "/readyz").status_code == 200
