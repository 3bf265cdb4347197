"""sync.agent with no server to talk to: nothing is lost, errors are recorded, clocks are corrected."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

from hymy.timestamps import parse_ts
from kiosk.store import Store
from sync.agent import Agent
from sync.backoff import CAP_S, UNREACHABLE_CAP_S
from sync.enrolment import write_token
from tests import procs
from tests.sync.helpers import SlamServer, StepClock, closed_port, device, presses, write_config


def test_server_down_keeps_every_event_and_records_the_error(tmp_path):
    cfg, store = device(tmp_path, f"http://127.0.0.1:{closed_port()}")
    write_token(cfg.token_path, "tok")
    ids = presses(store, 20)
    agent = Agent(cfg, store=store)
    result = agent.drain()
    assert result.error and "connection refused" in result.error
    assert result.sent == 0 and result.pending == len(ids) == store.pending_count()
    last = json.loads(store.get_meta("last_sync"))
    assert last["ok"] is False and "connection refused" in last["error"] and last["last_success_at"] is None
    agent.close()


def test_no_token_and_no_code_says_not_enrolled(tmp_path):
    cfg, store = device(tmp_path, f"http://127.0.0.1:{closed_port()}")
    agent = Agent(cfg, store=store)
    agent.tick()
    assert store.get_meta("enrolment") == "not enrolled"
    assert "enrolment_code" in json.loads(store.get_meta("last_sync"))["error"]
    agent.close()


def test_enrolment_with_server_down_backs_off_and_keeps_the_code(tmp_path):
    cfg, store = device(tmp_path, f"http://127.0.0.1:{closed_port()}", code="ABCD-1234")
    agent = Agent(cfg, store=store, backoff_base_s=10)
    wait = agent.tick()
    assert 0 <= wait <= 10
    assert not cfg.token_path.exists()
    assert "ABCD-1234" in cfg.source.read_text()
    assert "enrolment" in json.loads(store.get_meta("last_sync"))["error"]
    agent.close()


def test_sync_request_from_the_kiosk_skips_the_backoff(tmp_path):
    slam = SlamServer()
    cfg, store = device(tmp_path, f"http://127.0.0.1:{slam.port}")
    write_token(cfg.token_path, "tok")
    ids = presses(store, 3)
    agent = Agent(cfg, store=store, backoff_base_s=100, backoff_cap_s=100, heartbeat_s=3600,
                  rand=lambda: 0.99)
    for _ in range(5):
        agent.tick()
    first = slam.accepted
    assert first >= 1, "tried once"
    agent.tick()
    assert slam.accepted == first, "then waits (backoff of up to 100 s)"
    kiosk = Store(cfg.store_path)  # the maintenance screen's own connection
    kiosk.set_meta("sync_requested_at", "2026-11-23T12:00:00.000Z")
    agent.tick()
    assert slam.accepted > first, "sync now: tried again at once"
    assert store.pending_count() == len(ids)
    agent.close()
    kiosk.close()
    slam.close()


def test_unsent_presses_are_corrected_once_the_clock_syncs(tmp_path):
    cfg, store = device(tmp_path, f"http://127.0.0.1:{closed_port()}")
    ids = presses(store, 3, synced=False, followups=False, start_uptime_ms=100_000)
    clock = StepClock()
    agent = Agent(cfg, store=store, clock=clock)
    assert agent.correct_clock() == 0
    clock.synced, clock.wall = True, datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert agent.correct_clock() == 3
    first = store.get(ids[0])
    assert first["clock_corrected"] is True and first["device_pressed_at"]
    # press at uptime 100 000 ms, now uptime 120 000 ms at 12:00:00 -> 11:59:40
    assert parse_ts(first["pressed_at"]) == datetime(2026, 11, 23, 11, 59, 40, tzinfo=UTC)
    assert agent.correct_clock() == 0
    agent.close()


def test_cli_once_exits_nonzero_with_the_server_down(tmp_path):
    path = write_config(tmp_path, f"http://127.0.0.1:{closed_port()}")
    cfg_store = Store(tmp_path / "data" / "kiosk.db")
    presses(cfg_store, 2)
    write_token(tmp_path / "data" / "device-token", "tok")
    t = time.monotonic()
    out = procs.run([sys.executable, "-m", "hymy", "sync", "--once", "--config", str(path)],
                    capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stderr
    assert "pending 3" in out.stdout and "connection refused" in out.stdout
    assert time.monotonic() - t < 30
    cfg_store.close()


def test_refused_connections_are_retried_within_the_short_cap(tmp_path):
    """The server down or restarting refuses connections: that costs it nothing, so the agent tries
    again within 20 s (not up to 5 minutes) and catches up within seconds of the server's return."""
    cfg, store = device(tmp_path, f"http://127.0.0.1:{closed_port()}")
    write_token(cfg.token_path, "tok")
    presses(store, 3)
    agent = Agent(cfg, store=store, rand=lambda: 0.999999)  # production caps, always the largest draw
    waits = [agent.send_batch().wait_s for _ in range(30)]
    assert "connection refused" in agent.last_error
    assert max(waits) <= UNREACHABLE_CAP_S and waits[-1] > UNREACHABLE_CAP_S - 0.1
    agent.close()


def test_a_server_that_drops_connections_keeps_the_long_cap(tmp_path):
    """A connection accepted and then closed reached the server (or its proxy): the 5-minute cap stays."""
    slam = SlamServer()
    cfg, store = device(tmp_path, f"http://127.0.0.1:{slam.port}")
    write_token(cfg.token_path, "tok")
    presses(store, 3)
    agent = Agent(cfg, store=store, rand=lambda: 0.999999)
    waits = [agent.send_batch().wait_s for _ in range(30)]
    assert slam.accepted >= 30 and waits[-1] > CAP_S - 1
    agent.close()
    slam.close()


def test_enrolment_against_a_refused_connection_uses_the_short_cap(tmp_path):
    cfg, store = device(tmp_path, f"http://127.0.0.1:{closed_port()}", code="ABCD-1234")
    now = [0.0]
    agent = Agent(cfg, store=store, rand=lambda: 0.999999, monotonic=lambda: now[0], heartbeat_s=1e9)
    waits = []
    for _ in range(30):
        waits.append(agent.tick())
        now[0] += waits[-1]
    assert max(waits) <= UNREACHABLE_CAP_S and waits[-1] > UNREACHABLE_CAP_S - 0.1
    assert "connection refused" in agent.last_error
    agent.close()


def test_agent_prunes_sent_events_past_the_retention_even_offline(tmp_path):
    """``device.retention_days`` (30 by default): the agent deletes events sent longer ago than that,
    never an unsent one, whether or not the server answers."""
    from datetime import timedelta

    from hymy.timestamps import format_ts, utcnow

    cfg, store = device(tmp_path, f"http://127.0.0.1:{closed_port()}")
    write_token(cfg.token_path, "tok")
    old, recent, unsent = presses(store, 3, followups=False)
    store.mark_sent([old, recent])
    for event_id, days in ((old, 31), (recent, 29)):
        store._conn.execute("UPDATE events SET sent_at = ? WHERE id = ?",
                            (format_ts(utcnow() - timedelta(days=days)), event_id))
    agent = Agent(cfg, store=store)
    agent.tick()
    assert store.all_ids() == [recent, unsent]
    assert store.pending_count() == 1
    agent.close()
