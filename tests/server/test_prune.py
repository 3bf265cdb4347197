"""``hymy admin prune`` neither loses a clock correction nor opens the door to double counts (issue 14.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hymy.timestamps import format_ts
from server import admin
from server import tables as t

from .conftest import followup, press

EPOCH = datetime(1970, 1, 1, 0, 5, tzinfo=UTC)  # a Pi without a real-time clock boots at the epoch
HELSINKI = ZoneInfo("Europe/Helsinki")  # the test stores' zone


def heartbeat(client, world, *, synced: bool, boot: str, now: datetime) -> dict:
    body = {"app_version": "0.1.0", "boot_id": boot, "uptime_ms": 100_000, "device_time": format_ts(now),
            "clock_synced": synced, "pending": 0}
    r = client.post("/api/v1/heartbeat", json=body, headers=world.device("s1"))
    assert r.status_code == 200, r.text
    return r.json()


def day_n(client, world, day: str, what: str = "daily") -> dict:
    r = client.get(f"/api/v1/stores/s1/{what}", params={"from": day, "to": day}, headers=world.user("admin"))
    return r.json()


def test_prune_keeps_an_unsynced_press_until_a_synced_heartbeat_of_its_boot_corrects_it(client, world, engine):
    now = datetime.now(UTC).replace(microsecond=0)
    waiting = press(1, at=EPOCH, clock_synced=False, boot_id="boot-1", uptime_ms=40_000)
    reason = {**followup(waiting["id"], "reason", "queue", at=EPOCH + timedelta(seconds=5)),
              "clock_synced": False, "boot_id": "boot-1", "uptime_ms": 45_000}
    old = press(4, at=now - timedelta(days=400))
    client.post("/api/v1/responses", json={"events": [waiting, reason, old]}, headers=world.device("s1"))
    heartbeat(client, world, synced=False, boot="boot-1", now=EPOCH + timedelta(minutes=2))  # NTP not there yet

    assert admin.prune(engine, 365) == {"responses": 1, "followups": 0}  # only the old synced press

    assert heartbeat(client, world, synced=True, boot="boot-1", now=now)["corrected"] == 2
    at = now - timedelta(seconds=60)  # uptime 40 s when the heartbeat says 100 s
    with engine.connect() as conn:
        assert conn.execute(select(t.responses.c.pressed_at).where(t.responses.c.id == waiting["id"])
                            ).scalar() == format_ts(at)
    assert day_n(client, world, "1970-01-01")["total"]["n"] == 0  # nothing left on the epoch
    local = at.astimezone(HELSINKI).date().isoformat()
    assert day_n(client, world, local)["total"]["counts"] == {"1": 1}  # moved to the day it really was
    assert day_n(client, world, local, "followups") == [{"kind": "reason", "value": "queue", "n": 1}]


def test_prune_deletes_unsynced_presses_no_heartbeat_can_correct_any_more(client, world, engine):
    """Once the device's heartbeats come from a later boot (or it is revoked), an old boot's unsynced
    presses can never be corrected: they are pruned like any other old press."""
    lost = press(2, at=EPOCH, clock_synced=False, boot_id="boot-0", uptime_ms=40_000)
    client.post("/api/v1/responses", json={"events": [lost]}, headers=world.device("s1"))
    assert admin.prune(engine, 365) == {"responses": 0, "followups": 0}  # no heartbeat yet: it may come
    heartbeat(client, world, synced=False, boot="boot-1", now=EPOCH)  # rebooted before NTP synced
    assert admin.prune(engine, 365) == {"responses": 1, "followups": 0}
    assert day_n(client, world, "1970-01-01")["total"]["n"] == 1  # its count stays, like any pruned press


def test_a_pruned_event_sent_again_is_a_duplicate_and_never_counted_twice(client, world, engine):
    old_at = datetime.now(UTC) - timedelta(days=400)
    a = press(1, at=old_at)
    why = followup(a["id"], "reason", "queue", at=old_at + timedelta(seconds=3))
    client.post("/api/v1/responses", json={"events": [a, why]}, headers=world.device("s1"))
    day = old_at.astimezone(HELSINKI).date().isoformat()
    before = (day_n(client, world, day)["total"], day_n(client, world, day, "followups"))
    assert before[0]["n"] == 1

    assert admin.prune(engine, 365) == {"responses": 1, "followups": 1}
    r = client.post("/api/v1/responses", json={"events": [a, why]}, headers=world.device("s1"))
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "duplicate"]
    assert (day_n(client, world, day)["total"], day_n(client, world, day, "followups")) == before
    assert admin.count_rows(engine, "responses") == admin.count_rows(engine, "followups") == 0
