"""Enrolment, heartbeat (fleet state, clock correction), config with ETag, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from hymy.protocol import AlertRule, EnrollResponse, StoreConfig
from hymy.timestamps import format_ts
from server import admin
from server import tables as t
from server.tokens import hash_secret

from .conftest import followup, press


def test_enroll_code_works_once_and_token_is_stored_hashed(client, engine):
    sid = admin.create_store(engine, "Shop", store_id="shop")
    new = admin.create_device(engine, sid, "exit")
    r = client.post("/api/v1/enroll", json={"code": new.code.lower().replace("-", "")})
    assert r.status_code == 200
    body = EnrollResponse.model_validate(r.json())
    assert body.device_id == new.device_id and body.config.store_id == "shop"
    assert len(body.token) >= 43
    again = client.post("/api/v1/enroll", json={"code": new.code})
    assert again.status_code == 409 and "already used" in again.json()["detail"]
    with engine.connect() as conn:
        row = conn.execute(select(t.devices).where(t.devices.c.id == new.device_id)).first()
        codes = conn.execute(select(t.enrolment_codes.c.code_hash)).scalars().all()
    assert row.token_hash == hash_secret(body.token) and body.token not in str(tuple(row))
    assert all(new.code not in c for c in codes)


def test_enroll_wrong_and_expired_codes(client, engine):
    sid = admin.create_store(engine, "Shop")
    assert client.post("/api/v1/enroll", json={"code": "AAAA-BBBB-CCCC"}).status_code == 404
    new = admin.create_device(engine, sid)
    with engine.begin() as conn:
        conn.execute(update(t.enrolment_codes).values(expires_at=format_ts(datetime.now(UTC) - timedelta(seconds=1))))
    r = client.post("/api/v1/enroll", json={"code": new.code})
    assert r.status_code == 410 and "expired" in r.json()["detail"]
    assert client.post("/api/v1/enroll", json={"code": "x"}).status_code == 422


def test_enroll_answers_the_status_of_the_error_kind_not_of_its_wording(client, engine, monkeypatch):
    """Issue 17: each EnrolmentError kind carries its HTTP status; the API maps by type, so rewording a
    message can never change the status (an "expired" message that mentions "already used" stays 410)."""
    from hymy import errors

    sid = admin.create_store(engine, "Shop")
    new = admin.create_device(engine, sid)
    with engine.begin() as conn:  # revoked after its code was made, the code still in the table (a race)
        conn.execute(update(t.devices).values(revoked_at=format_ts(datetime.now(UTC))))
    r = client.post("/api/v1/enroll", json={"code": new.code})
    assert r.status_code == 410 and "revoked" in r.json()["detail"]
    for kind, status in ((errors.UnknownCode, 404), (errors.CodeUsed, 409), (errors.CodeExpired, 410),
                         (errors.DeviceRevoked, 410)):
        def refuse(*_a, kind=kind, **_k):
            raise kind("code: this code was already used, or it expired, or it is unknown")
        monkeypatch.setattr(admin, "enroll", refuse)
        r = client.post("/api/v1/enroll", json={"code": "AAAA-BBBB-CCCC"})
        assert (r.status_code, r.json()["detail"]) == (status, "code: this code was already used, or it expired, "
                                                               "or it is unknown"), kind


def test_revoked_token_gets_401_at_once(client, world, engine):
    h = world.device("s1")
    assert client.get("/api/v1/config", headers=h).status_code == 200
    device_id = next(d["id"] for d in admin.listing(engine)["devices"] if d["store_id"] == "s1")
    admin.revoke_device(engine, device_id)
    for path in ("/api/v1/config",):
        assert client.get(path, headers=h).status_code == 401
    assert client.post("/api/v1/responses", json={"events": []}, headers=h).status_code == 401


def test_config_etag_and_304_and_alert_rules(client, world, engine):
    h = world.device("s1")
    r = client.get("/api/v1/config", headers=h)
    etag = r.headers["etag"]
    assert etag.startswith('"') and StoreConfig.model_validate(r.json()).store_id == "s1"
    assert client.get("/api/v1/config", headers={**h, "If-None-Match": etag}).status_code == 304
    admin.set_alert_rules(engine, "s1", [AlertRule(id="unhappy", kind="negative_share", threshold=60, local=True)])
    r2 = client.get("/api/v1/config", headers={**h, "If-None-Match": etag})
    assert r2.status_code == 200 and r2.headers["etag"] != etag
    assert r2.json()["alert_rules"][0]["id"] == "unhappy"


@pytest.mark.parametrize("header, status", [
    ("*", 304), (" * ", 304), ("{etag}", 304), ("W/{etag}", 304), ('"old", W/"older", {etag}', 304),
    ('"old",,  {etag} ,', 304), ('"old", W/"older"', 200), ('W/"{bare}x"', 200), ("{bare}", 200), ('"a', 200),
    ("", 200)])
def test_config_if_none_match_star_lists_and_weak_tags(client, world, header, status):
    """RFC 9110 section 13.1.2: ``*`` matches any current version; a list matches if any member does,
    compared weakly; a malformed header matches nothing (the full answer goes out)."""
    h = world.device("s1")
    etag = client.get("/api/v1/config", headers=h).headers["etag"]
    r = client.get("/api/v1/config", headers={**h, "If-None-Match": header.format(etag=etag, bare=etag.strip('"'))})
    assert r.status_code == status, header
    assert r.headers["etag"] == etag
    assert (r.content == b"") is (status == 304)


def hb(**kw):
    base = {"app_version": "0.1.0", "boot_id": "boot-1", "uptime_ms": 100_000,
            "device_time": "2026-11-23T10:00:00.000Z", "clock_synced": True, "pending": 3,
            "oldest_pending_s": 12.5, "quarantined": 1, "last_error": "timeout", "disk_free_mb": 900.0,
            "cpu_temp_c": 51.0}
    base.update(kw)
    return base


def test_heartbeat_stores_fleet_state(client, world):
    r = client.post("/api/v1/heartbeat", json=hb(clock_synced=False), headers=world.device("s2"))
    assert r.status_code == 200 and r.json()["corrected"] == 0
    fleet = client.get("/api/v1/fleet", params={"store": "s2"}, headers=world.user("admin")).json()
    assert fleet[0]["pending"] == 3 and fleet[0]["last_error"] == "timeout" and fleet[0]["clock_synced"] is False
    assert fleet[0]["last_seen_at"] is not None


def test_heartbeat_corrects_unsynced_presses_and_moves_rollups(client, world, engine):
    wrong = datetime(1970, 1, 1, 0, 5, tzinfo=UTC)  # no RTC: the Pi booted at the epoch
    unsynced = press(1, at=wrong, clock_synced=False, uptime_ms=40_000)
    other_boot = press(2, at=wrong, clock_synced=False, uptime_ms=40_000, boot_id="boot-0")
    synced = press(4, at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC), uptime_ms=50_000)
    client.post("/api/v1/responses", json={"events": [unsynced, other_boot, synced]}, headers=world.device("s1"))
    r = client.post("/api/v1/heartbeat", json=hb(clock_synced=False), headers=world.device("s1"))
    assert r.json()["corrected"] == 0
    r = client.post("/api/v1/heartbeat", json=hb(), headers=world.device("s1"))
    assert r.json()["corrected"] == 1
    with engine.connect() as conn:
        row = conn.execute(select(t.responses).where(t.responses.c.id == unsynced["id"])).first()
    # 10:00:00 at uptime 100 s -> the press at uptime 40 s was at 09:59:00 UTC (11:59 Helsinki)
    assert row.pressed_at == "2026-11-23T09:59:00.000Z"
    assert row.original_pressed_at == unsynced["pressed_at"] and row.server_corrected_at
    q = {"from": "1970-01-01", "to": "1970-01-01"}
    old = client.get("/api/v1/stores/s1/daily", params=q, headers=world.user("admin")).json()["days"][0]
    assert old["n"] == 1  # only the other boot's press is left on 1970-01-01
    new = client.get("/api/v1/stores/s1/hourly", params={"date": "2026-11-23"}, headers=world.user("admin")).json()
    by_hour = {h["hour"]: h["n"] for h in new["hours"] if h["n"]}
    assert by_hour == {"2026-11-23T11:00+02:00": 2}
    # a second heartbeat does not correct again
    assert client.post("/api/v1/heartbeat", json=hb(), headers=world.device("s1")).json()["corrected"] == 0
    # and the device re-sending its own corrected copy is a duplicate
    again = {**unsynced, "pressed_at": "2026-11-23T09:59:00.000Z", "clock_corrected": True,
             "device_pressed_at": unsynced["pressed_at"]}
    r = client.post("/api/v1/responses", json={"events": [again]}, headers=world.device("s1"))
    assert r.json()["results"][0]["status"] == "duplicate"


def test_heartbeat_corrects_followups_and_moves_reason_counts(client, world, engine):
    wrong = datetime(1970, 1, 1, 0, 5, tzinfo=UTC)
    unsynced = press(1, at=wrong, clock_synced=False, uptime_ms=40_000)
    reason = {**followup(unsynced["id"], "reason", "queue", at=wrong + timedelta(seconds=4)),
              "clock_synced": False, "boot_id": "boot-1", "uptime_ms": 44_000}
    comment = {**followup(unsynced["id"], "comment", "slow", at=wrong + timedelta(seconds=9)),
               "clock_synced": False, "boot_id": "boot-1", "uptime_ms": 49_000}
    client.post("/api/v1/responses", json={"events": [unsynced, reason, comment]}, headers=world.device("s1"))
    assert client.post("/api/v1/heartbeat", json=hb(), headers=world.device("s1")).json()["corrected"] == 3
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(t.followups))}
    assert rows[reason["id"]].pressed_at == "2026-11-23T09:59:04.000Z"
    assert rows[reason["id"]].original_pressed_at == reason["pressed_at"]
    assert rows[comment["id"]].pressed_at == "2026-11-23T09:59:09.000Z"
    admin_h = world.user("admin")
    then = client.get("/api/v1/stores/s1/followups", params={"from": "1970-01-01", "to": "1970-01-01"},
                      headers=admin_h).json()
    now = client.get("/api/v1/stores/s1/followups", params={"from": "2026-11-23", "to": "2026-11-23"},
                     headers=admin_h).json()
    assert then == [] and now == [{"kind": "reason", "value": "queue", "n": 1}]
    # the device re-sending its corrected follow-up later is still a duplicate
    again = {**reason, "pressed_at": "2026-11-23T09:59:04.000Z", "clock_corrected": True,
             "device_pressed_at": reason["pressed_at"]}
    r = client.post("/api/v1/responses", json={"events": [again]}, headers=world.device("s1"))
    assert r.json()["results"][0]["status"] == "duplicate"
