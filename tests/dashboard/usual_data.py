"""Presses with a known story for the "when and why" tests: steady weeks, and an hour that differs.

Everything goes through the server's own ingest, so the rollups are what real kiosks would produce.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from uuid6 import uuid7

from hymy.hours import zone
from hymy.timestamps import format_ts
from server import admin
from server.ingest import ingest

TZ = "Europe/Helsinki"
#: 30 presses, index 80: what a steady hour looks like.
STEADY = (1, 2, 11, 16)
#: 30 presses, index 26: an hour that went wrong.
BAD = (15, 9, 4, 2)


def hour_presses(day: date, hour: int, counts: tuple[int, ...], reason: str | None = None, tz: str = TZ) -> list[dict]:
    """Responses (4 faces, ``counts`` per face, most negative first) spread over local ``hour`` of ``day``;
    every unhappy press (faces 1-2) gives ``reason`` when one is named."""
    events: list[dict] = []
    total = sum(counts)
    i = 0
    for mood, count in enumerate(counts, 1):
        for _ in range(count):
            at = datetime.combine(day, time(hour, 1 + 57 * i // max(total, 1), i % 60), tzinfo=zone(tz))
            rid = str(uuid7())
            events.append({"type": "response", "id": rid, "question_id": "q-default", "mood": mood, "scale": 4,
                           "source": "touch", "pressed_at": format_ts(at), "clock_synced": True, "boot_id": "story",
                           "uptime_ms": 1000, "flags": [], "app_version": "0.1.0"})
            if reason and mood <= 2:
                events.append({"type": "followup", "id": str(uuid7()), "response_id": rid, "kind": "reason",
                               "value": reason, "pressed_at": format_ts(at + timedelta(seconds=2))})
            i += 1
    return events


def store_with_device(engine, name: str, hours: dict, region_id: str | None = None) -> tuple[str, str]:
    """A store with ``hours`` and an enrolled device: (store id, device id)."""
    sid = admin.create_store(engine, name, region_id=region_id, config={"opening_hours": hours})
    device_id, _token, _cfg = admin.enroll(engine, admin.create_device(engine, sid, "exit").code)
    return sid, device_id


def deliver(engine, device_id: str, store_id: str, events: list[dict]) -> None:
    for i in range(0, len(events), 500):
        ingest(engine, device_id, store_id, TZ, events[i:i + 500])
