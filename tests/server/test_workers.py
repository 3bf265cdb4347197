"""``hymy server --workers N`` as real processes on real PostgreSQL (issue 16): two instances of two workers
each share one database; the request limits hold across the workers, the enrolment and sign-in limits
exactly across the instances, one alert per episode, a lease holder that dies is replaced after its
lease expires, each worker's pool is sized from HYMY_DB_POOL, idle kiosks keep their connection."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from hymy.protocol import AlertRule, default_store_config
from hymy.timestamps import utcnow
from server import admin, auth
from server import tables as t
from server.alerts.tables import alert_channels
from server.db import make_engine
from server.leases import HOLD_S
from server.migrate import current, heads
from server.ratelimit import RateLimiter
from server.testing import clear_of_minute_end, server_process
from tests import procs
from tests.alerts.helpers import response
from tests.alerts.servers import WebhookReceiver
from tests.conftest import need

from .conftest import schema_url

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LIMIT = 40  # HYMY_DEVICE_RATE of these servers
APP_NAME = "hymy-workers-test"
ENV = {"HYMY_DEVICE_RATE": str(LIMIT), "HYMY_IP_RATE": "0", "HYMY_ENROLL_RATE": "5", "HYMY_ALERT_SWEEP_S": "1",
       "HYMY_INSECURE_COOKIES": "1", "HYMY_DB_POOL": "4"}


def bound(limit: int, processes: int) -> int:
    """docs/server.md: the most requests per minute a key sent to ``processes`` processes gets."""
    return limit + (processes - 1) * (limit // processes + max(1, limit // (4 * processes)))


class Fleet:
    """What the servers serve: a store with an alert rule and a webhook, devices with tokens, an admin
    with an API token."""

    def __init__(self, engine, rx: WebhookReceiver):
        cfg = default_store_config().model_dump(mode="json")
        cfg.pop("store_id")
        cfg["alert_rules"] = [AlertRule(id="unhappy", kind="negative_share").model_dump(mode="json")]
        self.store = admin.create_store(engine, "Kauppa", store_id="kauppa", config=cfg)
        self.ids, self.tokens = [], []
        for _ in range(3):
            new = admin.create_device(engine, self.store)
            self.ids.append(new.device_id)
            self.tokens.append(admin.enroll(engine, new.code)[1])
        boss = auth.create_user(engine, "boss", "correct horse battery", "admin")
        self.api = {"Authorization": f"Bearer {auth.create_api_token(engine, boss)}"}
        with engine.begin() as conn:
            conn.execute(alert_channels.insert().values(store_id=self.store, webhook_url=rx.url))

    def device(self, i: int) -> dict:
        return {"Authorization": f"Bearer {self.tokens[i]}"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Instances A and B, each ``hymy server --workers 2``, on one fresh PostgreSQL schema."""
    base = os.environ.get("HYMY_TEST_POSTGRES_URL", "")
    need("postgres", bool(base), "set HYMY_TEST_POSTGRES_URL=postgresql+psycopg://user:pw@127.0.0.1/db")
    schema = "w_" + os.urandom(5).hex()
    root = create_engine(base, isolation_level="AUTOCOMMIT")
    with root.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = schema_url(base, schema)
    logs = tmp_path_factory.mktemp("workers")
    try:
        with WebhookReceiver() as rx:
            served = f"{url}&application_name={quote(APP_NAME)}"
            with server_process(served, ENV, 120, log=logs / "a.log", workers=2) as a:
                # A migrated the fresh schema before its workers started; B finds it at head
                engine = make_engine(url)
                assert current(engine) == heads()
                fleet = Fleet(engine, rx)
                with server_process(served, ENV, 120, log=logs / "b.log", workers=2) as b:
                    yield {"a": a, "b": b, "engine": engine, "fleet": fleet, "rx": rx}
                engine.dispose()
    finally:
        with root.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        root.dispose()


def workers_of(pid: int) -> list[int]:
    """The worker processes of a ``hymy server --workers N`` parent (not multiprocessing's tracker)."""
    return [c for c in procs.children_of(pid)
            if "spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")]


def test_each_instance_runs_two_workers_on_its_port(servers):
    for name in ("a", "b"):
        assert len(workers_of(servers[name].pid)) == 2
        assert httpx.get(servers[name].base_url + "/readyz").text == "ready"


def test_a_device_flooding_both_workers_stays_within_the_bound(servers):
    """Per-process counters would give the device 2 x 40 here; merged through the database it gets at
    most bound(40, 2) = 65, and both workers counted some of its requests."""
    fleet, base = servers["fleet"], servers["a"].base_url
    clear_of_minute_end(30)
    codes: Counter = Counter()
    stop = time.monotonic() + 6  # several merges (one a second) while the device keeps sending

    def send() -> None:
        while time.monotonic() < stop:
            codes[httpx.get(base + "/api/v1/config", headers=fleet.device(0), timeout=30).status_code] += 1

    threads = [threading.Thread(target=send) for _ in range(8)]  # a new connection per request: any worker
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert set(codes) <= {200, 429} and codes[429] > 0
    print(f"device limit {LIMIT}/min over 2 workers: {dict(codes)}")
    assert LIMIT // 2 <= codes[200] <= bound(LIMIT, 2), codes
    key = RateLimiter(LIMIT, "device").key(fleet.ids[0])
    with servers["engine"].connect() as conn:
        holders = conn.execute(select(func.count(func.distinct(t.rate_counts.c.holder)))
                               .where(t.rate_counts.c.key == key)).scalar()
    assert holders == 2  # both of A's workers served it


def test_enrolment_attempts_are_limited_exactly_across_instances(servers):
    """HYMY_ENROLL_RATE=5 per address: eight tries on each instance, at once: five answered, the rest 429."""
    codes: list[int] = []

    def attempt(base: str) -> None:
        codes.append(httpx.post(base + "/api/v1/enroll", json={"code": "WRONG-CODE-XX"}, timeout=30).status_code)

    threads = [threading.Thread(target=attempt, args=(servers["ab"[i % 2]].base_url,)) for i in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert Counter(codes) == {404: 5, 429: 11}


def test_failed_sign_ins_are_limited_exactly_across_instances(servers):
    """Five failed sign-ins lock the user name, whichever instance and worker each reaches."""
    statuses = []
    for i in range(10):
        with httpx.Client(base_url=servers["ab"[i % 2]].base_url, timeout=30) as c:
            page = c.get("/login")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            statuses.append(c.post("/login", data={"username": "boss", "password": "wrong", "csrf_token": token},
                                   follow_redirects=False).status_code)
    assert statuses == [401] * 5 + [429] * 5


def test_one_alert_per_episode_from_four_workers(servers):
    """Unhappy presses reach all four workers at once: one webhook for the episode; the rule removed, the
    sweep (one worker's, by lease) clears it: one more."""
    fleet, rx, engine = servers["fleet"], servers["rx"], servers["engine"]
    start = utcnow() - timedelta(seconds=30)
    batches = [[response(1, start + timedelta(seconds=i, milliseconds=100 * j))] for i in range(8) for j in range(2)]

    def send(k: int) -> None:
        for b in batches[k::4]:
            r = httpx.post(servers["ab"[k % 2]].base_url + "/api/v1/responses", json={"events": b},
                           headers=fleet.device(1 + k % 2), timeout=30)
            assert r.status_code == 200, r.text

    threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert [r.headers["X-Hymy-Event"] for r in rx.wait_for(1, 30)] == ["alert.fired"]
    admin.set_alert_rules(engine, fleet.store, [])
    assert [r.headers["X-Hymy-Event"] for r in rx.wait_for(2, 30)] == ["alert.fired", "alert.cleared"]
    time.sleep(3)  # three more sweeps on the four workers: nothing more is sent
    assert len(rx.requests) == 2


def test_each_worker_holds_at_most_its_share_of_connections(servers):
    """HYMY_DB_POOL=4 over 2 workers: at most 2 connections each, 4 per instance, whatever the load."""
    fleet, engine = servers["fleet"], servers["engine"]
    seen = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            with engine.connect() as conn:
                seen.append(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                                         {"n": APP_NAME}).scalar())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        def load(k: int) -> None:
            for _ in range(6):
                r = httpx.get(servers["a"].base_url + "/api/v1/stores", headers=fleet.api, timeout=30)
                assert r.status_code == 200

        threads = [threading.Thread(target=load, args=(k,)) for k in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
    finally:
        done.set()
        watcher.join(30)
    assert 0 < max(seen) <= 2 * 4  # two instances x HYMY_DB_POOL


def test_a_dead_lease_holder_is_replaced_only_after_its_lease_expires(servers):
    """SIGKILL the worker holding the alert sweep's lease: another process takes it over, and its first
    run began no earlier than the dead holder's lease expired."""
    engine = servers["engine"]

    def lease():
        with engine.connect() as conn:
            return conn.execute(select(t.leases).where(t.leases.c.name == "job:alert-sweep")).first()

    deadline = time.monotonic() + 60
    while (held := lease()) is None or held.expires_at < time.time():
        assert time.monotonic() < deadline, "nobody took the sweep's lease"
        time.sleep(0.1)
    pid = int(held.holder.split(":")[1])
    assert any(pid in workers_of(servers[n].pid) for n in "ab")
    os.kill(pid, signal.SIGKILL)
    dead = lease()  # as the holder left it (it may have renewed just before the signal)
    deadline = time.monotonic() + 120
    while (now := lease()).holder == dead.holder:  # polled often: this is the takeover's first run
        assert time.monotonic() < deadline, "the lease was never taken over"
        time.sleep(0.01)
    every_s = float(ENV["HYMY_ALERT_SWEEP_S"])
    # a run holds the lease for max(every_s, HOLD_S) from its start, and after it for every_s from its start
    began = now.expires_at - (every_s if now.expires_at <= time.time() + every_s else HOLD_S)
    assert began >= dead.expires_at - 0.001


def http_get(sock: socket.socket, host: str, path: str) -> bytes:
    """One HTTP/1.1 GET on ``sock``: the whole answer's body; b"" when the server had closed the connection."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 200")
    return body


def test_an_idle_kiosk_keeps_its_connection_past_uvicorns_default(servers):
    """HYMY_KEEPALIVE_S (75 s by default): a connection idle 6 s (uvicorn's default would close it after 5)
    still carries the next request."""
    host, port = servers["a"].base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        assert http_get(sock, host, "/healthz") == b"ok"
        time.sleep(6)
        assert http_get(sock, host, "/healthz") == b"ok"
