"""sync.agent against the REAL server on loopback: enrolment, delivery, config, heartbeat, revocation."""

from __future__ import annotations

import json
import os
import stat
import threading
import time

from kiosk.store import Store
from kiosk.storeconfig import StoreConfigCache, read_store_config
from sync.agent import Agent
from sync.client import Client
from sync.delivery import encode_batch
from sync.enrolment import REVOKED, read_token
from tests import procs
from tests.sync.helpers import StepClock, device, presses


def enrolled_agent(tmp_path, live_server, **kw):
    device_id, code = live_server.new_device()
    cfg, store = device(tmp_path, live_server.url, code=code)
    agent = Agent(cfg, store=store, **kw)
    assert agent.drain(max_batches=0).error is None
    return device_id, cfg, store, agent


def test_enrolment_writes_a_private_token_the_device_id_and_drops_the_code(tmp_path, live_server):
    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    token = read_token(cfg.token_path)
    assert token and stat.S_IMODE(os.stat(cfg.token_path).st_mode) == 0o600
    assert store.get_meta("device_id") == device_id and store.get_meta("enrolment") == "enrolled"
    assert "enrolment_code" not in cfg.source.read_text()
    assert StoreConfigCache(cfg.store_config_path)().store_id != "local"
    agent.close()


def test_token_never_appears_in_logs(tmp_path, live_server, caplog):
    caplog.set_level("DEBUG")
    _, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    presses(store, 30)
    assert agent.once().ok
    token = read_token(cfg.token_path)
    assert token not in caplog.text
    assert token not in (store.get_meta("last_sync") or "")
    agent.close()


def test_drain_delivers_everything_exactly_once(tmp_path, live_server):
    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    ids = presses(store, 1200)
    result = agent.drain()
    assert result.ok and result.sent == len(ids) and result.batches >= 3  # 500 per batch
    got = live_server.ids(device_id)
    assert sorted(got) == sorted(ids)
    last = json.loads(store.get_meta("last_sync"))
    assert last["ok"] and last["error"] is None and last["last_success_at"]
    assert Store(cfg.store_path).unsent(10) == []
    agent.close()


def test_replayed_batch_is_duplicate_on_the_server(tmp_path, live_server):
    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    presses(store, 10)
    batch = store.unsent()
    assert agent.drain().ok
    client = Client(live_server.url, read_token(cfg.token_path))
    outcome = client.post_batch(encode_batch(batch))
    assert outcome.status == 200
    assert {r["status"] for r in outcome.results} == {"duplicate"}
    assert len(live_server.ids(device_id)) == len(batch)
    agent.close()


def test_rejected_event_is_quarantined_and_does_not_block_the_rest(tmp_path, live_server):
    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    ids = presses(store, 5, followups=False)
    # corrupt one stored body the way a buggy old app version might have written it
    bad = ids[2]
    body = json.loads(store._read("SELECT body FROM events WHERE id = ?", (bad,))[0][0])
    body["mood"] = 4
    body["scale"] = 3  # mood 4 is outside scale 3: the server rejects this event alone
    with store._write() as conn:
        conn.execute("UPDATE events SET body = ? WHERE id = ?", (json.dumps(body), bad))
    result = agent.drain()
    assert result.ok and result.sent == 4 and result.quarantined == 1
    assert store.quarantined_count() == 1 and store.quarantined()[0]["id"] == bad
    assert sorted(live_server.ids(device_id)) == sorted(i for i in ids if i != bad)
    agent.close()


def test_config_pull_uses_etag_and_refuses_nothing_valid(tmp_path, live_server):
    from server import admin

    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    assert agent.pull_config() is True  # enrolment wrote the config without an etag
    _, etag = read_store_config(cfg.store_config_path)
    assert etag
    assert agent.pull_config() is False  # 304
    store_id = StoreConfigCache(cfg.store_config_path)().store_id
    current = admin.store_config(live_server.engine, store_id).model_dump()
    current["response_interval_s"] = 9.0
    admin.update_store_config(live_server.engine, store_id, current)
    assert agent.pull_config() is True
    assert StoreConfigCache(cfg.store_config_path)().response_interval_s == 9.0
    agent.close()


def test_heartbeat_is_taken(tmp_path, live_server):
    _, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    presses(store, 3)
    assert agent.heartbeat() is True
    agent.close()


def test_revoked_device_stops_sending_and_says_so(tmp_path, live_server):
    from server import admin

    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    presses(store, 4)
    admin.revoke_device(live_server.engine, device_id)
    result = agent.drain()
    assert result.error and "not enrolled or revoked" in result.error
    assert store.get_meta("enrolment") == f"{REVOKED} (HTTP 401)"
    assert result.pending == 5 and live_server.ids(device_id) == []
    from kiosk.status import device_status, format_status

    shown = format_status(device_status(cfg, store))
    assert "device not enrolled or revoked" in shown and "HTTP 401" in shown
    # the loop now waits the slow authorisation retry (5 min), not the fast backoff
    agent.tick()
    assert agent._next_send - agent.monotonic() > 200
    agent.close()


def test_running_agent_delivers_new_presses_within_a_second_or_two(tmp_path, live_server):
    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    runner = threading.Thread(target=agent.run, daemon=True)
    runner.start()
    kiosk = Store(cfg.store_path)
    try:
        for _ in range(3):
            ids = presses(kiosk, 1, followups=False)
            t0 = time.monotonic()
            while ids[0] not in live_server.ids(device_id) and time.monotonic() - t0 < 10:
                time.sleep(0.02)
            assert time.monotonic() - t0 < 2.0
    finally:
        agent.stop()
        runner.join(10)
        agent.close()
        kiosk.close()
    assert store.pending_count() == 0


def test_bad_config_is_refused_and_the_last_good_one_stays(tmp_path, live_server, caplog):
    """A config that fails validation (here: a future server's unknown key, made by the fault proxy)."""
    from server import admin
    from tests.sync.proxy import FaultProxy

    proxy = FaultProxy(int(live_server.url.rsplit(":", 1)[1]))
    port = proxy.start()
    try:
        device_id, code = live_server.new_device()
        cfg, store = device(tmp_path, f"http://127.0.0.1:{port}", code=code)
        agent = Agent(cfg, store=store)
        assert agent.drain(max_batches=0).error is None
        agent.pull_config()
        good = StoreConfigCache(cfg.store_config_path)()
        before = cfg.store_config_path.read_bytes()
        current = admin.store_config(live_server.engine, good.store_id).model_dump()
        current["thank_you_s"] = 4.0
        admin.update_store_config(live_server.engine, good.store_id, current)

        def skew(body: bytes) -> bytes:
            doc = json.loads(body)
            doc["hologram"] = True  # a key this device's StoreConfig does not know
            return json.dumps(doc).encode()

        proxy.rewrite = ("/api/v1/config", skew)
        assert agent.pull_config() is False
        assert cfg.store_config_path.read_bytes() == before
        assert StoreConfigCache(cfg.store_config_path)().thank_you_s == good.thank_you_s
        assert "refused a bad store config" in caplog.text and "hologram" in caplog.text
        assert agent.config_error and agent.heartbeat() is True
        proxy.rewrite = None
        assert agent.pull_config() is True and agent.config_error is None
        assert StoreConfigCache(cfg.store_config_path)().thank_you_s == 4.0
        agent.close()
    finally:
        proxy.stop()


def test_reenrolment_with_a_new_code_after_revocation(tmp_path, live_server):
    from kiosk.config import load_config
    from server import admin
    from tests.sync.helpers import write_config

    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    admin.revoke_device(live_server.engine, device_id)
    ids = presses(store, 6)
    assert agent.drain().error and store.get_meta("enrolment").startswith(REVOKED)
    agent.close()
    # the technician makes a new device for the store and puts its code into the config; restart
    store_id = StoreConfigCache(cfg.store_config_path)().store_id
    new = admin.create_device(live_server.engine, store_id, "replacement")
    cfg2 = load_config(write_config(tmp_path, live_server.url, code=new.code))
    agent = Agent(cfg2, store=store)
    result = agent.drain()
    assert result.ok and store.get_meta("device_id") == new.device_id
    assert store.get_meta("enrolment") == "enrolled"
    assert sorted(live_server.ids(new.device_id)) == sorted(ids)
    assert "enrolment_code" not in cfg2.source.read_text()
    agent.close()


def test_leftover_code_after_a_crash_is_removed_not_reused(tmp_path, live_server):
    from kiosk.config import load_config
    from tests.sync.helpers import write_config

    device_id, code = live_server.new_device()
    cfg, store = device(tmp_path, live_server.url, code=code)
    agent = Agent(cfg, store=store)
    assert agent.drain(max_batches=0).error is None
    agent.close()
    token = read_token(cfg.token_path)
    # power cut after the token was written, before the code left the config
    cfg = load_config(write_config(tmp_path, live_server.url, code=code))
    agent = Agent(cfg, store=store)
    ids = presses(store, 3)
    assert agent.drain().ok
    assert read_token(cfg.token_path) == token, "not enrolled again (the code is spent anyway)"
    assert "enrolment_code" not in cfg.source.read_text()
    assert sorted(live_server.ids(device_id)) == sorted(ids)
    agent.close()


def test_a_refused_new_code_keeps_the_working_token(tmp_path, live_server):
    from kiosk.config import load_config
    from tests.sync.helpers import write_config

    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    agent.close()
    cfg = load_config(write_config(tmp_path, live_server.url, code="WRONG-CODE-1234"))
    agent = Agent(cfg, store=store)
    ids = presses(store, 2)
    assert agent.drain().ok
    assert sorted(live_server.ids(device_id)) == sorted(ids)
    agent.close()


def test_heartbeat_lets_the_server_correct_presses_sent_before_the_clock_synced(tmp_path, live_server):
    from datetime import UTC, datetime

    from sqlalchemy import select

    from server import tables as t

    clock = StepClock(datetime(1970, 1, 1, 0, 5, tzinfo=UTC), 300_000)
    device_id, code = live_server.new_device()
    cfg, store = device(tmp_path, live_server.url, code=code)
    agent = Agent(cfg, store=store, clock=clock)
    ids = presses(store, 3, synced=False, followups=False, start_uptime_ms=200_000)
    assert agent.drain().ok  # sent with the wrong (unsynced) wall clock
    clock.synced, clock.wall = True, datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert agent.heartbeat() is True
    with live_server.engine.connect() as conn:
        rows = conn.execute(select(t.responses.c.id, t.responses.c.pressed_at, t.responses.c.server_corrected_at)
                            .where(t.responses.c.device_id == device_id)).all()
    assert sorted(r.id for r in rows) == sorted(ids)
    assert all(r.server_corrected_at for r in rows)
    # press at uptime 200 000 ms; heartbeat at uptime 300 000 ms and 12:00:00 -> 11:58:20
    first = min(rows, key=lambda r: str(r.pressed_at))
    assert str(first.pressed_at).replace(" ", "T").startswith("2026-11-23T11:58:20")
    agent.close()


def test_cli_once_enrols_delivers_and_exits_zero(tmp_path, live_server):
    import sys

    from tests.sync.helpers import write_config

    device_id, code = live_server.new_device()
    path = write_config(tmp_path, live_server.url, code=code)
    kiosk = Store(tmp_path / "data" / "kiosk.db")
    ids = presses(kiosk, 40)
    out = procs.run([sys.executable, "-m", "hymy", "sync", "--once", "--config", str(path)],
                    capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"sent {len(ids)}, quarantined 0, pending 0" in out.stdout
    assert sorted(live_server.ids(device_id)) == sorted(ids)
    kiosk.close()


def test_a_damaged_store_is_salvaged_delivered_and_counted_on_the_server(tmp_path, live_server, caplog):
    """Power loss damaged a page of the outbox holding 400 unsent presses. At the next boot the store is
    moved aside and its readable presses salvaged into the fresh one; the agent delivers them (nothing
    twice) and the heartbeat tells the server, which stores and logs the count."""
    import logging

    from sqlalchemy import select

    from server import tables as t
    from tests.kiosk.damage import garbage, pages_of

    device_id, cfg, store, agent = enrolled_agent(tmp_path, live_server)
    ids = presses(store, 400, followups=False)
    agent.close()
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    page, lost = pages_of(cfg.store_path, "events")[10]
    garbage(cfg.store_path, [page])

    store = Store(cfg.store_path, boot_id="after-power-loss")
    assert store.recovery is not None and store.wait_salvaged(60)
    agent = Agent(cfg, store=store)
    caplog.set_level(logging.WARNING, logger="server.heartbeat")
    try:
        result = agent.drain()
        assert result.ok and result.sent == 400 - lost
        delivered = live_server.ids(device_id)
        assert len(delivered) == len(set(delivered)) == 400 - lost and set(delivered) <= set(ids)
        assert agent.heartbeat() is True
        with live_server.engine.connect() as conn:
            counted = conn.execute(select(t.devices.c.store_recoveries).where(t.devices.c.id == device_id)).scalar()
        assert counted == 1
        assert "moved a damaged local store aside" in caplog.text
    finally:
        agent.close()
        store.close()


def test_the_agent_sends_a_heartbeat_as_soon_as_the_clock_syncs(tmp_path, live_server):
    """Presses that went out before the clock synced are corrected by the server within a loop turn of the
    sync, not at the next regular heartbeat (an hour here)."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from server import tables as t
    from sync.agent import CLOCK_CHECK_S

    clock, now = StepClock(datetime(1970, 1, 1, 0, 5, tzinfo=UTC), 300_000), [1000.0]
    device_id, code = live_server.new_device()
    cfg, store = device(tmp_path, live_server.url, code=code)
    agent = Agent(cfg, store=store, clock=clock, heartbeat_s=3600, monotonic=lambda: now[0])
    presses(store, 3, synced=False, followups=False, start_uptime_ms=200_000)

    def corrected() -> list:
        with live_server.engine.connect() as conn:
            return conn.execute(select(t.responses.c.server_corrected_at)
                                .where(t.responses.c.device_id == device_id)).scalars().all()

    for _ in range(5):  # enrol, the first heartbeat, deliver with the wrong (unsynced) clock
        agent.tick()
    assert corrected() == [None, None, None]
    clock.synced, clock.wall = True, datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    now[0] += CLOCK_CHECK_S
    agent.tick()
    assert all(corrected()) and len(corrected()) == 3
    agent.close()
