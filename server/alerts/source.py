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
from server.binding import ids_value, in_list
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


def configs_of(engine: Engine, store_ids: list[str]) -> dict[str, tuple[str, str]]:
    """The stored config texts of the stores that exist, by store id, in one read: make each config with
    :func:`config_from` (the cached, shared one of :func:`shared_config`)."""
    return storeconfig.texts_of(engine, store_ids)


config_from = storeconfig.config_from


def open_rule_ids_of(engine: Engine, store_ids: list[str]) -> dict[str, set[str]]:
    """The rules with an open episode, by store id (only stores with one), of ``store_ids``: one read
    straight on the driver."""
    dialect = engine.dialect.name
    out: dict[str, set[str]] = {}
    for store_id, rule_id in read_rows(engine, in_list(dialect, _OPEN), (ids_value(dialect, store_ids),)):
        out.setdefault(store_id, set()).add(rule_id)
    return out


_OPEN = "SELECT store_id, rule_id FROM alert_episodes WHERE cleared_at IS NULL AND store_id IN (:ids)"


def store_name(conn: Connection, store_id: str) -> str:
    row = conn.execute(select(t.stores.c.name).where(t.stores.c.id == store_id)).first()
    return row.name if row else store_id


_RECENT = ("SELECT id, mood, scale, pressed_at, flags, voided FROM responses "
           "WHERE store_id = ? AND pressed_at >= ? ORDER BY pressed_at")
#: :data:`_RECENT` of several stores, each from its own time: the pairs bound as one value (PostgreSQL two
#: arrays, SQLite a JSON array of ``[store_id, since]``), oldest first.
_RECENT_OF = {
    "postgresql": "SELECT r.store_id, r.id, r.mood, r.scale, r.pressed_at, r.flags, r.voided "
                  "FROM unnest(%s::text[], %s::text[]) AS w(store_id, since) "
                  "JOIN responses r ON r.store_id = w.store_id AND r.pressed_at >= w.since ORDER BY r.pressed_at",
    "sqlite": "SELECT r.store_id, r.id, r.mood, r.scale, r.pressed_at, r.flags, r.voided FROM json_each(?) w "
              "JOIN responses r ON r.store_id = json_extract(w.value, '$[0]') "
              "AND r.pressed_at >= json_extract(w.value, '$[1]') ORDER BY r.pressed_at",
}
Recent = tuple[list[dict], set[str]]


def _recent(rows) -> Recent:
    """``(responses as protocol-shaped dicts, ids voided)`` from rows of ``(id, mood, scale, pressed_at,
    flags, voided)``."""
    out = [{"id": x[0], "mood": x[1], "scale": x[2], "pressed_at": x[3],
            "flags": [f for f in (x[4] or "").split(",") if f]} for x in rows]
    return out, {x[0] for x in rows if x[5]}


def recent_responses(engine: Engine, store_id: str, since: datetime) -> Recent:
    """The store's responses pressed at or after ``since`` (protocol-shaped dicts, oldest first) and
    the ids among them that a ``void`` follow-up took out of the count. One read straight on the driver."""
    return _recent(read_rows(engine, _RECENT, (store_id, format_ts(since))))


def recent_responses_of(engine: Engine, since: dict[str, datetime]) -> dict[str, Recent]:
    """:func:`recent_responses` of every store of ``since`` from its own time, in one read (for the
    evaluation of all the stores that got batches in a moment)."""
    if not since:
        return {}
    pairs = sorted((sid, format_ts(at)) for sid, at in since.items())
    if engine.dialect.name == "postgresql":
        params: tuple = ([p[0] for p in pairs], [p[1] for p in pairs])
    else:
        params = (json.dumps(pairs),)
    rows: dict[str, list] = {sid: [] for sid in since}
    for x in read_rows(engine, _RECENT_OF[engine.dialect.name], params):
        rows[x[0]].append(x[1:])
    return {sid: _recent(r) for sid, r in rows.items()}


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
