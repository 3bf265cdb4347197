"""Realistic sample data for screenshots, tests and the demo: stores, a manager, weeks of presses.

Everything goes through the server's own APIs (``server.admin``, ``server.auth``, ``server.ingest``),
so the rollups the pages read are exactly what real kiosks would produce.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from uuid6 import uuid7

from hymy.hours import zone
from hymy.timestamps import format_ts, utcnow

DEFAULT_PASSWORD = "hymy-demo-password"
HOURS = {d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["09:00-18:00"],
                                                                              "sun": ["12:00-18:00"]}
COMMENTS = ["Ihana palvelu kassalla, kiitos Mari!", "Nopea kassa ja ystävällinen myyjä.",
            "Tack för hjälpen med presentinslagningen!", "Great selection of local bread.",
            "Siisti ja valoisa myymälä.", "Kiitos kun autoitte löytämään oikean koon."]


@dataclass
class Sample:
    region_id: str
    store_ids: list[str]
    users: dict[str, str]  #: username -> password
    device_ids: dict[str, str]  #: store id -> device id


def _moods(rng: random.Random, hour: int, bias: float) -> int:
    """A 4-face mood; the lunch and evening rushes are a little less happy."""
    dip = 0.12 if hour in (12, 16, 17) else 0.0
    p = [0.06 + dip / 2 + bias, 0.08 + dip / 2, 0.30, 0.56 - dip - bias]
    return rng.choices((1, 2, 3, 4), weights=[max(x, 0.01) for x in p])[0]


def presses(store_id: str, tz: str, day: date, n: int, rng: random.Random, bias: float = 0.0,
            until: datetime | None = None, comment_rate: float = 0.03) -> list[dict]:
    """``n`` responses (and their follow-ups) spread over the opening hours of local ``day``."""
    z = zone(tz)
    wd = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    start_s, end_s = (int(x[:2]) for x in HOURS[wd][0].split("-"))
    events: list[dict] = []
    for _ in range(n):
        # more presses at midday and late afternoon
        hour = min(end_s - 1, max(start_s, int(rng.triangular(start_s, end_s, (start_s + end_s) / 2 + 1))))
        local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=z)
        at = local.astimezone(UTC)
        if until is not None and at > until:
            continue
        mood = _moods(rng, hour, bias)
        flags = ["repeat"] if rng.random() < 0.04 else []
        rid = str(uuid7())
        ts = format_ts(at)
        events.append({"type": "response", "id": rid, "question_id": "q-default", "mood": mood, "scale": 4,
                       "source": "touch", "pressed_at": ts, "clock_synced": True, "boot_id": "sample",
                       "uptime_ms": 1000, "flags": flags, "app_version": "0.1.0"})
        if flags:
            continue
        fts = format_ts(at + timedelta(seconds=3))
        if mood <= 2 and rng.random() < 0.7:
            reason = rng.choices(["queue", "service", "selection", "price", "cleanliness"], [5, 2, 3, 2, 1])[0]
            events.append({"type": "followup", "id": str(uuid7()), "response_id": rid, "kind": "reason",
                           "value": reason, "pressed_at": fts})
        elif mood == 4 and rng.random() < 0.35:
            praise = rng.choices(["staff", "speed", "tidy"], [5, 3, 2])[0]
            events.append({"type": "followup", "id": str(uuid7()), "response_id": rid, "kind": "praise",
                           "value": praise, "pressed_at": fts})
            if rng.random() < comment_rate * 4:
                events.append({"type": "followup", "id": str(uuid7()), "response_id": rid, "kind": "comment",
                               "value": rng.choice(COMMENTS), "pressed_at": format_ts(at + timedelta(seconds=9))})
    return events


def store_config(name: str) -> dict:
    return {
        "opening_hours": HOURS,
        "praise": [{"id": "staff", "texts": {"fi": "Henkilökunta", "sv": "Personalen", "en": "Staff"}},
                   {"id": "speed", "texts": {"fi": "Nopeus", "sv": "Snabbhet", "en": "Speed"}},
                   {"id": "tidy", "texts": {"fi": "Siisteys", "sv": "Ordning", "en": "Tidiness"}}],
        "followup": {"1": "reason", "2": "reason", "4": "praise"},
        "comments_enabled": True,
    }


def _heartbeats(engine, store_ids: list[str], device_ids: dict[str, str], now: datetime) -> None:
    """Fleet state as kiosks report it: healthy, one with a backlog and an error, one never heard from."""
    from hymy.protocol import Heartbeat

    from ..heartbeat import record_heartbeat

    states = [dict(pending=0, quarantined=0, disk_free_mb=11800.0, cpu_temp_c=48.0, clock_synced=True),
              dict(pending=0, quarantined=0, disk_free_mb=9400.0, cpu_temp_c=52.5, clock_synced=True),
              None,
              dict(pending=1450, oldest_pending_s=5400.0, quarantined=2, disk_free_mb=610.0, cpu_temp_c=71.0,
                   clock_synced=False, last_error="sync: connection refused (server unreachable)")]
    for sid, state in zip(store_ids, states, strict=False):
        if state is None:
            continue
        hb = Heartbeat(app_version="0.1.0", boot_id="sample", uptime_ms=3_600_000, device_time=now, **state)
        record_heartbeat(engine, device_ids[sid], sid, "Europe/Helsinki", hb)


def seed(engine, days: int = 45, per_day: int = 120, now: datetime | None = None, seed_value: int = 7) -> Sample:
    """Three stores in one region (+ one elsewhere), users of every role, ``days`` of presses up to now."""
    from .. import admin, auth
    from ..ingest import ingest

    rng = random.Random(seed_value)
    now = now or utcnow()
    region = admin.create_region(engine, "Uusimaa")
    other = admin.create_region(engine, "Pirkanmaa")
    specs = [("Helsinki Kamppi", region, 0.0, 1.0), ("Espoo Iso Omena", region, 0.04, 0.8),
             ("Vantaa Myyrmäki", region, -0.03, 0.12), ("Tampere Keskusta", other, 0.02, 0.9)]
    store_ids, device_ids = [], {}
    for name, rid, bias, volume in specs:
        sid = admin.create_store(engine, name, region_id=rid, config=store_config(name))
        store_ids.append(sid)
        new = admin.create_device(engine, sid, "Uloskäynti 1")
        device_id, _token, _cfg = admin.enroll(engine, new.code, app_version="0.1.0")
        device_ids[sid] = device_id
        tz = "Europe/Helsinki"
        today = now.astimezone(zone(tz)).date()
        batch: list[dict] = []
        for back in range(days, -1, -1):
            day = today - timedelta(days=back)
            n = max(0, int(per_day * volume * rng.uniform(0.7, 1.2) * (0.6 if day.weekday() == 6 else 1)))
            batch += presses(sid, tz, day, n, rng, bias, until=now)
            if len(batch) > 400:
                for i in range(0, len(batch), 500):
                    ingest(engine, device_id, sid, tz, batch[i:i + 500])
                batch = []
        for i in range(0, len(batch), 500):
            ingest(engine, device_id, sid, tz, batch[i:i + 500])
    _heartbeats(engine, store_ids, device_ids, now)
    users = {"admin": DEFAULT_PASSWORD, "anna": DEFAULT_PASSWORD, "risto": DEFAULT_PASSWORD, "teemu": DEFAULT_PASSWORD}
    auth.create_user(engine, "admin", DEFAULT_PASSWORD, "admin", display_name="Ada Admin")
    auth.create_user(engine, "anna", DEFAULT_PASSWORD, "store_manager", stores=[store_ids[0]], display_name="Anna")
    auth.create_user(engine, "risto", DEFAULT_PASSWORD, "regional_manager", regions=[region], display_name="Risto")
    auth.create_user(engine, "teemu", DEFAULT_PASSWORD, "technician", display_name="Teemu")
    return Sample(region, store_ids, users, device_ids)


def unhappy_burst(engine, sample: Sample, alerts=None, store_index: int = 0, count: int = 6) -> None:
    """A queue at the till: ``count`` very unhappy presses in the last minutes and an alert rule that fires
    on them (evaluated at once when the alerts service ``alerts`` is given)."""
    from hymy.protocol import AlertRule

    from .. import admin
    from ..ingest import ingest

    sid = sample.store_ids[store_index]
    admin.set_alert_rules(engine, sid, [AlertRule(id="jono", kind="negative_share", window_min=15, min_count=4,
                                                  threshold=50, local=True)])
    now = utcnow()
    events = [{"type": "response", "id": str(uuid7()), "question_id": "q-default", "mood": 1, "scale": 4,
               "source": "touch", "pressed_at": format_ts(now - timedelta(seconds=20 * (i + 1))), "clock_synced": True,
               "boot_id": "sample", "uptime_ms": 1000, "flags": [], "app_version": "0.1.0"} for i in range(count)]
    ingest(engine, sample.device_ids[sid], sid, "Europe/Helsinki", events)
    if alerts is not None:
        alerts.evaluate_store(sid)
