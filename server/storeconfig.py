"""A store's config as the hot paths read it: every config pull of every kiosk and every alert evaluation
after a batch.

:func:`server.admin.store_config` gives a fresh :class:`~hymy.protocol.StoreConfig` on every call (its
caller may change it); a fleet of 10,000 kiosks pulls its config 167 times a second and the alert
evaluation reads it for every store that got a batch (through SQLAlchemy on two statements that was
0.4 ms a call). So here:

- the stored texts (the store's ``config_json`` and its rules' ``rule_json`` in id order) come in one
  read straight on the driver (:func:`server.db.read_row`);
- what is made from them is kept by the texts themselves (a bounded cache): the validated config, and a
  device's answer (its JSON body and ETag). A changed config or rule is new text, so it is read anew at
  once, by every worker and instance, with no invalidation to forget; an unchanged one costs the read.

What :func:`config` returns is shared: read it, never change it (``model_copy`` for a changed one).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from hymy.protocol import StoreConfig

from .binding import ids_value, in_list
from .db import read_row, read_rows

#: The texts of the store ``s``'s rules as one JSON array of strings, in rule id order (a column expression).
RULES = {
    "sqlite": "(SELECT json_group_array(rule_json) FROM (SELECT rule_json FROM alert_rules WHERE store_id = s.id ORDER BY id))",
    "postgresql": "(SELECT coalesce(json_agg(r.rule_json ORDER BY r.id), '[]'::json)::text FROM alert_rules r "
                  "WHERE r.store_id = s.id)",
}
#: The store's config text and its rules' texts.
_TEXTS = {d: f"SELECT s.config_json, {rules} FROM stores s WHERE s.id = ?" for d, rules in RULES.items()}
#: :data:`_TEXTS` of several stores at once, each row led by the store's id (the alert evaluation's rounds).
_TEXTS_OF = {d: f"SELECT s.id, s.config_json, {rules} FROM stores s WHERE s.id IN (:ids)" for d, rules in RULES.items()}
#: Distinct configs kept (each a few KiB): more than the stores of a large chain.
CACHE_SIZE = 4096


def texts(engine: Engine, store_id: str) -> tuple[str, str] | None:
    """``(config_json, rules as a JSON array of rule_json texts)`` of the store, or None when it does not exist."""
    row = read_row(engine, _TEXTS[engine.dialect.name], (store_id,))
    return None if row is None else (row[0], row[1] or "[]")


def texts_of(engine: Engine, store_ids: list[str]) -> dict[str, tuple[str, str]]:
    """:func:`texts` of every store of ``store_ids`` that exists, by store id, in one read."""
    dialect = engine.dialect.name
    rows = read_rows(engine, in_list(dialect, _TEXTS_OF[dialect]), (ids_value(dialect, store_ids),))
    return {r[0]: (r[1], r[2] or "[]") for r in rows}


def texts_in(conn: Connection, store_id: str) -> tuple[str, str] | None:
    """:func:`texts` read on ``conn`` (inside its transaction, for callers that hold one)."""
    sql = _TEXTS[conn.dialect.name]
    row = conn.exec_driver_sql(sql.replace("?", "%s") if conn.dialect.name == "postgresql" else sql,
                               (store_id,)).first()
    return None if row is None else (row[0], row[1] or "[]")


def fresh(config_json: str, rules: str) -> StoreConfig:
    """A new StoreConfig (the caller's own to change) from the stored texts of :func:`texts`."""
    data = json.loads(config_json)
    data["alert_rules"] = [json.loads(r) for r in json.loads(rules)]
    return StoreConfig.model_validate(data)


@lru_cache(maxsize=CACHE_SIZE)
def _config(config_json: str, rules: str) -> StoreConfig:
    return fresh(config_json, rules)


@lru_cache(maxsize=CACHE_SIZE)
def _answer(config_json: str, rules: str) -> tuple[str, bytes]:
    cfg = _config(config_json, rules).model_dump(mode="json")
    return etag(cfg), json.dumps(cfg, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def etag(cfg: dict) -> str:
    """The strong ETag of a config (its JSON form, ``model_dump(mode="json")``): a hash of its canonical JSON."""
    return '"' + hashlib.sha256(json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32] + '"'


def config(engine: Engine, store_id: str) -> StoreConfig | None:
    """The store's config with its alert rules (shared: do not change it), or None when there is no such store."""
    got = texts(engine, store_id)
    return None if got is None else _config(*got)


def config_from(config_json: str, rules: str) -> StoreConfig:
    """The config :func:`config` gives for these texts (of :func:`texts_of`; shared: do not change it)."""
    return _config(config_json, rules)


def answer(engine: Engine, store_id: str) -> tuple[str, bytes] | None:
    """``(ETag, JSON body)`` of the store's config as ``GET /api/v1/config`` sends it, or None when there is
    no such store."""
    got = texts(engine, store_id)
    return None if got is None else _answer(*got)


def answer_from(config_json: str, rules: str | None) -> tuple[str, bytes]:
    """:func:`answer` of the texts read with :data:`RULES` (``rules`` None: no rules)."""
    return _answer(config_json, rules or "[]")
