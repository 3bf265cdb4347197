"""Building a real server database for alert tests: migrated schema, a store, a device, and presses
stored through the server's own ingest (``server.ingest.ingest``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from hymy.protocol import AlertRule, default_store_config
from hymy.timestamps import format_ts
from kiosk.capture import new_id
from server import admin
from server.db import make_engine
from server.ingest import ingest
from server.migrate import upgrade

UNHAPPY = AlertRule(id="unhappy", kind="negative_share")  # >= 50 % unhappy, 15 min, at least 4


def make_db(url: str):
    engine = make_engine(url)
    upgrade(engine)
    return engine


#: The stores of these tests speak English first, so notices and reports carry the English texts the
#: assertions quote; tests/alerts/test_language.py covers Finnish and Swedish stores.
ENGLISH_FIRST = ["en", "fi", "sv"]


def add_store(engine, *, rules=(UNHAPPY,), hours=None, tz="Europe/Helsinki", name="Kauppa Keskusta",
              store_id=None, reasons=True, languages=ENGLISH_FIRST) -> tuple[str, str]:
    """A store with ``rules`` and a device; returns (store_id, device_id)."""
    cfg = default_store_config().model_dump(mode="json")
    cfg.update(store_name=name, timezone=tz, opening_hours=hours or {}, languages=list(languages),
               alert_rules=[r.model_dump(mode="json") for r in rules])
    if not reasons:
        cfg["reasons"] = []
    cfg.pop("store_id")
    sid = admin.create_store(engine, name, timezone=tz, store_id=store_id, config=cfg)
    dev = admin.create_device(engine, sid, "till 1")
    return sid, dev.device_id


def response(mood: int, at: datetime, *, flags=(), scale: int = 4) -> dict:
    return {"type": "response", "id": new_id(), "question_id": "q-default", "mood": mood, "scale": scale,
            "source": "touch", "pressed_at": format_ts(at), "clock_synced": True, "boot_id": "boot-1",
            "uptime_ms": 1000, "flags": list(flags), "app_version": "test"}


def followup(response_id: str, kind: str, value: str, at: datetime) -> dict:
    return {"type": "followup", "id": new_id(), "response_id": response_id, "kind": kind, "value": value,
            "pressed_at": format_ts(at)}


def press(engine, store_id: str, device_id: str, *events: dict, tz="Europe/Helsinki"):
    out = ingest(engine, device_id, store_id, tz, list(events))
    assert out.rejected == 0, out.results
    return out


def run_together(calls: Iterable[Callable[[], Iterable]], timeout_s: float) -> list:
    """Start every call in its own thread, released at once by a barrier (as several server instances
    would race); wait up to ``timeout_s`` seconds for each; return their results, concatenated."""
    calls = list(calls)
    barrier = threading.Barrier(len(calls))
    results: list = []

    def run(call):
        barrier.wait()
        results.extend(call())

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
    return results
