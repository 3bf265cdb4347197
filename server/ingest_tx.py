"""Prepared batches (``server.ingest.Rows``) stored in one transaction, straight through the driver.

The statements are few and fixed, so they run on the pooled ``sqlite3`` / psycopg connection itself
(``server.db.raw_writing``): SQLAlchemy's work per statement (compile-cache lookup, parameter
processing, result objects) cost several times the statements on SQLite. What is stored, and every
guarantee, is the one ``server.ingest`` describes.

SQLite (the write lock held since BEGIN IMMEDIATE, so nobody else writes meanwhile): one lookup of the
stored ids and earlier voids, then ``executemany`` of the new ids into ``event_ids``, of the new rows,
and of the rollup deltas.

PostgreSQL, in two round trips in the common case (psycopg's pipeline mode: BEGIN travels with the
first statement, the rollup statement with the COMMIT): one statement claims the ids
(``INSERT INTO event_ids ... ON CONFLICT (id) DO NOTHING RETURNING id``, in id order), inserts the rows
of the ids it got (a response marked voided when a ``void`` follow-up is stored already) and returns
them; one statement adds every rollup delta (``server.rollups.bump``). Only ids this transaction did
not get (resends, or another client's concurrent copy, which ``ON CONFLICT`` waits for) cost more: their
types and stored rows are read to tell a duplicate from a conflict.
"""

from __future__ import annotations

import json
from collections import defaultdict
from operator import itemgetter

from sqlalchemy import Engine

from hymy.protocol import EventStatus

from . import tables as t
from .binding import ids_value, in_list, json_param, json_rows
from .db import raw_writing
from .event_content import CONFLICT, ID_TAKEN, same_content
from .rollups import bump

RESPONSES = [c.name for c in t.responses.c]
FOLLOWUPS = [c.name for c in t.followups.c]
ACCEPTED, DUPLICATE = EventStatus.accepted, EventStatus.duplicate
_KIND = {"responses": "response", "followups": "followup"}


def _insert_claimed(table, alias: str) -> str:
    """PostgreSQL: insert ``table``'s rows (a JSON array of objects, one per row) whose ids ``claimed`` holds."""
    cols = [c.name for c in table.c]
    values = ", ".join(f"u.{c}" for c in cols)
    if table is t.responses:  # a void stored before its response: the response arrives voided
        values = values.replace("u.voided", "u.voided OR EXISTS (SELECT 1 FROM followups v WHERE v.kind = 'void' "
                                            "AND v.store_id = u.store_id AND v.response_id = u.id)")
    return (f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT {values} FROM {json_rows(table, alias)} "
            f"WHERE u.id IN (SELECT id FROM claimed) RETURNING id, {'voided' if table is t.responses else 'NULL::boolean'}")


#: PostgreSQL: claim the batch's ids and insert the rows of those claimed, in one statement; answers
#: ``(id, voided)`` of every row inserted (``voided`` NULL for follow-ups).
_PG_STORE = (
    "WITH claimed AS (INSERT INTO event_ids (id, type) SELECT * FROM unnest(%(ids)s::text[], %(types)s::text[]) "
    "ON CONFLICT (id) DO NOTHING RETURNING id), "
    f"r AS ({_insert_claimed(t.responses, 'r')}), f AS ({_insert_claimed(t.followups, 'f')}) "
    "SELECT * FROM r UNION ALL SELECT * FROM f")


def _sql(dialect: str, text: str) -> str:
    """``text`` (``?`` placeholders, ``IN (:ids)`` for a list bound as one value) in the driver's form."""
    text = in_list(dialect, text)
    return text.replace("?", "%s") if dialect == "postgresql" else text


_LOOKUP = ("SELECT id, type FROM event_ids WHERE id IN (:ids) UNION ALL "
           "SELECT response_id, 'void' FROM followups WHERE kind = 'void' AND store_id = ? AND response_id IN (:ids)")
_TYPES = "SELECT id, type FROM event_ids WHERE id IN (:ids)"
_ROWS = {tb.name: f"SELECT * FROM {tb.name} WHERE id IN (:ids)" for tb in (t.responses, t.followups)}
_VOID = ("UPDATE responses SET voided = ? WHERE id = ? AND store_id = ? AND voided = ? "
         "RETURNING local_date, hour_utc, scale, mood, flags")
_INSERT = {tb.name: f"INSERT INTO {tb.name} ({', '.join(c.name for c in tb.c)}) VALUES ({', '.join('?' for _ in tb.c)})"
           for tb in (t.responses, t.followups)}


_LOOKUP_SQLITE = _sql("sqlite", _LOOKUP)
_RESPONSE_VALUES, _FOLLOWUP_VALUES = itemgetter(*RESPONSES), itemgetter(*FOLLOWUPS)


class _Row:
    """A stored row read through the driver, its columns as attributes (what ``same_content`` reads)."""

    def __init__(self, names: list[str], values: tuple):
        self.__dict__.update(zip(names, values, strict=True))


def _claim_sqlite(cur, store_id: str, responses: dict, followups: dict) -> tuple[set, dict, set]:
    """SQLite: ``(ids got, {stored id: type}, {ids with a stored void})`` after inserting the new rows."""
    ids = sorted([*responses, *followups])
    known: dict[str, str] = {}
    voids: set[str] = set()
    bound = json.dumps(ids)
    for eid, kind in cur.execute(_LOOKUP_SQLITE, (bound, store_id, bound)):
        if kind == "void":
            voids.add(eid)
        else:
            known[eid] = kind
    got = [eid for eid in ids if eid not in known]
    cur.executemany("INSERT INTO event_ids (id, type) VALUES (?, ?)",
                    [(eid, "response" if eid in responses else "followup") for eid in got])
    for table, columns, rows in ((t.responses, _RESPONSE_VALUES, responses), (t.followups, _FOLLOWUP_VALUES, followups)):
        new = [rows[k] for k in got if k in rows]
        if table is t.responses and voids:
            for r in new:
                r["voided"] = r["id"] in voids
        if new:
            cur.executemany(_INSERT[table.name], map(columns, new))
    return set(got), known, voids


def _claim_postgres(cur, responses: dict, followups: dict) -> tuple[set, dict]:
    """PostgreSQL: ``(ids got, {id: type} of the others)`` after claiming and inserting in one statement."""
    ids = sorted([*responses, *followups])
    params = {"ids": ids, "types": ["response" if eid in responses else "followup" for eid in ids]}
    for alias, cols, rows in (("r", RESPONSES, responses), ("f", FOLLOWUPS, followups)):
        params[alias] = json_param(cols, [rows[k] for k in sorted(rows)])
    got: set[str] = set()
    for eid, voided in cur.execute(_PG_STORE, params).fetchall():
        got.add(eid)
        if voided is not None:
            responses[eid]["voided"] = voided
    missed = [eid for eid in ids if eid not in got]
    known = dict(cur.execute(_sql("postgresql", _TYPES), (missed,)).fetchall()) if missed else {}
    return got, known


def store_many(engine: Engine, batches: list[tuple[str, object]]) -> None:
    """Store each ``(store_id, prepared)`` (``server.ingest.Rows``) in one transaction, one after the other,
    and set each result's status (``accepted``, ``duplicate``, or the reason it is ``rejected``) in its
    ``prepared.results``. A later batch sees what an earlier one stored (the same id twice is a duplicate
    or a conflict, as in two transactions). No transaction when none of them holds a valid event."""
    batches = [(sid, prepared) for sid, prepared in batches if prepared.first]
    if not batches:
        return
    with raw_writing(engine) as (cur, dialect):
        for store_id, prepared in batches:
            _store(cur, dialect, store_id, prepared)


def _store(cur, dialect: str, store_id: str, prepared) -> None:
    """One batch's statements inside the open transaction of ``cur``."""
    results, first = prepared.results, prepared.first
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])  # (date, hour, scale, mood) -> counted, filtered
    fcounts: dict[tuple, int] = defaultdict(int)  # (date, hour, kind, value) -> choices
    voided_now: set[str] = set()
    if dialect == "postgresql":
        got, known = _claim_postgres(cur, prepared.responses, prepared.followups)
    else:
        got, known, _ = _claim_sqlite(cur, store_id, prepared.responses, prepared.followups)
    for table, rows in ((t.responses, prepared.responses), (t.followups, prepared.followups)):
        mine = _KIND[table.name]
        resent = sorted(k for k in rows if k not in got and known.get(k) == mine)
        stored = {}
        if resent:
            values = cur.execute(_sql(dialect, _ROWS[table.name]), (ids_value(dialect, resent),)).fetchall()
            names = [d[0] for d in cur.description]
            stored = {r.id: r for r in (_Row(names, v) for v in values)}
        for eid, row in rows.items():
            i, ev, at, device_at = first[eid]
            if eid in got:
                results[i]["status"] = ACCEPTED
                if table is t.responses:
                    counts[(row["local_date"], row["hour_utc"], row["scale"], row["mood"])][
                        0 if (not row["flags"] and not row["voided"]) else 1] += 1
                elif row["kind"] in ("reason", "praise"):
                    fcounts[(row["local_date"], row["hour_utc"], row["kind"], row["value"])] += 1
                elif row["kind"] == "void":
                    voided_now.add(row["response_id"])
            elif known.get(eid) != mine:
                results[i]["reason"] = ID_TAKEN.format(kind="response" if mine == "followup" else "follow-up")
            elif eid not in stored or same_content(table, stored[eid], ev, at, device_at):
                results[i]["status"] = DUPLICATE  # not stored any more: pruned after it was counted
            else:
                results[i]["reason"] = CONFLICT
    void = _sql(dialect, _VOID)
    for rid in sorted(voided_now):
        row = cur.execute(void, (True, rid, store_id, False)).fetchone()
        if row is not None and not row[4]:
            c = counts[(row[0], row[1], row[2], row[3])]
            c[0] -= 1
            c[1] += 1
    bump(cur, dialect, store_id, counts, fcounts)
