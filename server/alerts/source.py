"""What alerts and reports read from the server's own tables (``server.tables``): store configs and
recent presses. Kept in one module so the rest of ``server.alerts`` does not depend on their layout."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from hymy.protocol import StoreConfig
from hymy.timestamps import format_ts
from server import storeconfig
from server import tables as t
from server.db import read_rows


def store_config(conn: Connection, store_id: str) -> StoreConfig | None:
    """The store's StoreConfig with its alert rules, or None when the store does not exist."""
    from server.admin import NotFound
    from server.admin import store_config as load

    try:
        return load(conn, store_id)
    except NotFound:
        return None


def shared_config(engine: Engine, store_id: str) -> StoreConfig | None:
    """The store's config as :func:`store_config`, from ``server.storeconfig``'s cache (one read straight on
    the driver; shared: never change it), or None when the store does not exist."""
    return storeconfig.config(engine, store_id)


def open_rule_ids(engine: Engine, store_id: str) -> set[str]:
    """The rules of the store with an open episode (one read straight on the driver)."""
    return {r[0] for r in read_rows(engine, "SELECT rule_id FROM alert_episodes WHERE store_id = ? "
                                            "AND cleared_at IS NULL", (store_id,))}


def store_name(conn: Connection, store_id: str) -> str:
    row = conn.execute(select(t.stores.c.name).where(t.stores.c.id == store_id)).first()
    return row.name if row else store_id


_RECENT = ("SELECT id, mood, scale, pressed_at, flags, voided FROM responses "
           "WHERE store_id = ? AND pressed_at >= ? ORDER BY pressed_at")


def recent_responses(engine: Engine, store_id: str, since: datetime) -> tuple[list[dict], set[str]]:
    """The store's responses pressed at or after ``since`` (protocol-shaped dicts, oldest first) and
    the ids among them that a ``void`` follow-up took out of the count. One read straight on the driver
    (it runs for every store after its batches)."""
    rows = read_rows(engine, _RECENT, (store_id, format_ts(since)))
    out = [{"id": x[0], "mood": x[1], "scale": x[2], "pressed_at": x[3],
            "flags": [f for f in (x[4] or "").split(",") if f]} for x in rows]
    return out, {x[0] for x in rows if x[5]}


def stores_with_rules_and_recent_presses(conn: Connection, now: datetime) -> set[str]:
    """Stores that have alert rules and a press inside their longest rule window before ``now``."""
    longest: dict[str, int] = {}
    for store_id, rule_json in conn.execute(select(t.alert_rules.c.store_id, t.alert_rules.c.rule_json)):
        window = int(json.loads(rule_json).get("window_min", 15))
        longest[store_id] = max(longest.get(store_id, 0), window)
    if not longest:
        return set()
    r = t.responses.c
    since = now - timedelta(minutes=max(longest.values()))
    recent = conn.execute(
        select(r.store_id, func.max(r.pressed_at))
        .where(r.pressed_at >= format_ts(since), r.store_id.in_(sorted(longest)))
        .group_by(r.store_id)
    ).all()
    out = set()
    for store_id, pressed_at in recent:
        if pressed_at >= format_ts(now - timedelta(minutes=longest[store_id])):
            out.add(store_id)
    return out
