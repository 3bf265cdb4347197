"""Storing a batch of events: per-event validation, idempotent inserts, rollups in the same transaction.

Rules (see docs/server.md):
- Each event is validated alone; a bad one is ``rejected`` with a reason and never fails the batch.
- Same id, same content -> ``duplicate``; same id, different content -> ``rejected`` (conflict), never an
  overwrite. "Same content" ignores a clock correction made on the device: the comparison uses
  ``device_pressed_at or pressed_at`` and drops ``clock_corrected``/``device_pressed_at``.
- A follow-up whose response the server has not seen yet is accepted (it may arrive later). A ``void``
  follow-up marks its response voided; the response's count moves from counted to filtered.
- Inserts use ON CONFLICT DO NOTHING in id order, so any number of clients replaying the same batch at
  once store each id once; the rollups count only rows this transaction really inserted.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import BigInteger, Boolean, Engine, Integer, select, text, update

from hymy.timestamps import format_ts, utcnow
from sync.protocol import Event, EventResult, EventStatus, Followup, Response

from . import tables as t
from .db import insert_for, retrying, writing
from .localtime import bucket

EVENT = TypeAdapter(Event)
#: Press times the server stores: a Pi without a real-time clock starts at 1970; nothing is after 2100.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
#: Largest uptime the server stores (2**53 ms, about 285,000 years): beyond it the event is refused.
MAX_UPTIME_MS = 2**53
CONFLICT = "conflict: this id is already stored with different content"


def content_hash(event: Response | Followup) -> str:
    """SHA-256 of the event's normalised content (independent of clock corrections): the canonical JSON
    (fields in model order) with ``pressed_at = device_pressed_at or pressed_at`` and no correction fields."""
    norm = event.model_copy(update={"pressed_at": event.device_pressed_at or event.pressed_at,
                                    "clock_corrected": False, "device_pressed_at": None})
    return hashlib.sha256(norm.model_dump_json().encode()).hexdigest()


def ts(dt: datetime) -> str:
    """``format_ts`` for the hot path (same output for years 1970..2100, about 3x faster)."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def error_text(exc: ValidationError) -> str:
    """``field.path: message; ...`` from a pydantic error (at most 5 problems)."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"] if p not in ("response", "followup"))
        parts.append(f"{loc or 'event'}: {err['msg']}")
    return "invalid event: " + "; ".join(parts)


@dataclass
class Outcome:
    """What one batch did: a result per input event (in order) and what changed."""

    results: list[EventResult]
    stores_changed: set[str] = field(default_factory=set)
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0


def has_nul(value) -> bool:
    """True when a NUL character hides anywhere in a JSON value (PostgreSQL text cannot store it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def parse(raw_events: Iterable, check_nul: bool = True) -> list[tuple[str, Response | Followup | None, str | None]]:
    """``(id, event or None, rejection reason or None)`` per raw event, in order (pure)."""
    out = []
    for item in raw_events:
        eid = item.get("id") if isinstance(item, dict) else None
        eid = eid if isinstance(eid, str) else ""
        eid = eid[:64].replace("\x00", "")
        if check_nul and has_nul(item):
            out.append((eid, None, "invalid event: a text field contains a NUL character"))
            continue
        try:
            ev = EVENT.validate_python(item)
        except ValidationError as exc:
            out.append((eid, None, error_text(exc)))
            continue
        times = [ev.pressed_at] + ([ev.device_pressed_at] if ev.device_pressed_at else [])
        if any(not EARLIEST <= t < LATEST for t in times):
            out.append((eid, None, "invalid event: pressed_at: must be between 1970-01-01 and 2100-01-01"))
            continue
        if (ev.uptime_ms or 0) > MAX_UPTIME_MS:
            out.append((eid, None, f"invalid event: uptime_ms: must be at most {MAX_UPTIME_MS}"))
            continue
        out.append((ev.id, ev, None))
    return out


def ingest(engine: Engine, device_id: str, store_id: str, tz: str, raw_events: list,
           check_nul: bool = True) -> Outcome:
    """Validate and store ``raw_events`` for the device's store; one transaction (retried on deadlock).

    ``check_nul=False`` skips the NUL scan when the caller knows the raw body has no ``\\u0000``.
    """
    parsed = parse(raw_events, check_nul)
    return retrying(lambda: _store(engine, device_id, store_id, tz, parsed))


def _store(engine, device_id, store_id, tz, parsed) -> Outcome:
    now = format_ts(utcnow())
    status: dict[int, tuple[EventStatus, str | None]] = {}
    first: dict[str, tuple[int, str]] = {}  # id -> (index, hash) of its first valid occurrence
    resp_rows: dict[str, dict] = {}
    fu_rows: dict[str, dict] = {}
    for i, (eid, ev, why) in enumerate(parsed):
        if ev is None:
            status[i] = (EventStatus.rejected, why)
            continue
        h = content_hash(ev)
        if eid in first:
            status[i] = (EventStatus.duplicate, None) if first[eid][1] == h else (EventStatus.rejected, CONFLICT)
            continue
        first[eid] = (i, h)
        day, hour = bucket(ev.pressed_at, tz)
        common = {"id": eid, "store_id": store_id, "device_id": device_id, "pressed_at": ts(ev.pressed_at),
                  "local_date": day, "hour_utc": hour, "received_at": now, "content_hash": h}
        if isinstance(ev, Response):
            resp_rows[eid] = {**common, "question_id": ev.question_id, "mood": ev.mood, "scale": ev.scale,
                              "source": str(ev.source), "clock_synced": ev.clock_synced, "boot_id": ev.boot_id,
                              "uptime_ms": ev.uptime_ms, "flags": ",".join(sorted(str(f) for f in ev.flags)),
                              "app_version": ev.app_version, "clock_corrected": ev.clock_corrected,
                              "device_pressed_at": ts(ev.device_pressed_at) if ev.device_pressed_at else None,
                              "server_corrected_at": None, "original_pressed_at": None, "voided": False}
        else:
            fu_rows[eid] = {**common, "response_id": ev.response_id, "kind": str(ev.kind), "value": ev.value,
                            "deleted_at": None}

    ins = None
    with writing(engine) as conn:
        ins = insert_for(conn)
        inserted: set[str] = set()
        for table, rows in ((t.responses, resp_rows), (t.followups, fu_rows)):
            if not rows:
                continue
            known = dict(conn.execute(select(table.c.id, table.c.content_hash).where(table.c.id.in_(list(rows)))).all())
            new = [rows[k] for k in sorted(rows) if k not in known]
            if table is t.responses and new:
                voids = set(conn.execute(select(t.followups.c.response_id).where(
                    t.followups.c.kind == "void", t.followups.c.store_id == store_id,
                    t.followups.c.response_id.in_([r["id"] for r in new]))).scalars())
                for r in new:
                    r["voided"] = r["id"] in voids
            got: set[str] = set()
            if new and conn.dialect.name == "postgresql":
                got = _pg_insert_new(conn, table, new)
            elif new:
                stmt = ins(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
                got = set(conn.execute(stmt, new).scalars().all()) if len(new) > 1 else set(
                    conn.execute(stmt.values(**new[0])).scalars().all())
            lost = [r["id"] for r in new if r["id"] not in got]  # another client stored them meanwhile
            if lost:
                known.update(conn.execute(select(table.c.id, table.c.content_hash)
                                          .where(table.c.id.in_(lost))).all())
            inserted |= got
            for eid, row in rows.items():
                i = first[eid][0]
                if eid in got:
                    status[i] = (EventStatus.accepted, None)
                elif known.get(eid) == row["content_hash"]:
                    status[i] = (EventStatus.duplicate, None)
                else:
                    status[i] = (EventStatus.rejected, CONFLICT)

        counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for eid in inserted & resp_rows.keys():
            r = resp_rows[eid]
            key = (r["local_date"], r["hour_utc"], r["scale"], r["mood"])
            counts[key][0 if (not r["flags"] and not r["voided"]) else 1] += 1
        fcounts: dict[tuple, int] = defaultdict(int)
        voided_now = []
        for eid in inserted & fu_rows.keys():
            f = fu_rows[eid]
            if f["kind"] in ("reason", "praise"):
                fcounts[(f["local_date"], f["hour_utc"], f["kind"], f["value"])] += 1
            elif f["kind"] == "void":
                voided_now.append(f["response_id"])
        for rid in sorted(set(voided_now)):
            row = conn.execute(update(t.responses).where(
                t.responses.c.id == rid, t.responses.c.store_id == store_id, t.responses.c.voided.is_(False)
            ).values(voided=True).returning(t.responses.c.local_date, t.responses.c.hour_utc, t.responses.c.scale,
                                             t.responses.c.mood, t.responses.c.flags)).first()
            if row is not None and not row.flags:
                c = counts[(row.local_date, row.hour_utc, row.scale, row.mood)]
                c[0] -= 1
                c[1] += 1
        bump_hourly(conn, store_id, counts)
        bump_followups(conn, store_id, fcounts)

    results = [EventResult(id=parsed[i][0], status=status[i][0], reason=status[i][1]) for i in range(len(parsed))]
    out = Outcome(results)
    for r in results:
        if r.status is EventStatus.accepted:
            out.accepted += 1
        elif r.status is EventStatus.duplicate:
            out.duplicate += 1
        else:
            out.rejected += 1
    if inserted:
        out.stores_changed.add(store_id)
    return out


def _pg_type(col) -> str:
    if isinstance(col.type, BigInteger):
        return "bigint"
    if isinstance(col.type, Integer):
        return "integer"
    if isinstance(col.type, Boolean):
        return "boolean"
    return "text"


def _pg_insert_new(conn, table, rows: list[dict]) -> set[str]:
    """PostgreSQL: insert ``rows`` as one ``INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING
    RETURNING id`` (one array parameter per column, so the statement stays small whatever the batch size)."""
    cols = [c for c in table.c]
    names = ", ".join(c.name for c in cols)
    arrays = ", ".join(f"CAST(:{c.name} AS {_pg_type(c)}[])" for c in cols)
    sql = text(f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays}) "
               "ON CONFLICT (id) DO NOTHING RETURNING id")
    params = {c.name: [r[c.name] for r in rows] for c in cols}
    return set(conn.execute(sql, params).scalars().all())


def bump_hourly(conn, store_id: str, counts: dict[tuple, list[int]]) -> None:
    """Add ``(counted, filtered)`` deltas per ``(local_date, hour_utc, scale, mood)`` (in key order) to
    rollup_hourly, and the same deltas summed per day to rollup_daily."""
    rows = [{"store_id": store_id, "local_date": k[0], "hour_utc": k[1], "scale": k[2], "mood": k[3],
             "counted": v[0], "filtered": v[1]} for k, v in sorted(counts.items()) if v[0] or v[1]]
    if not rows:
        return
    ins = insert_for(conn)(t.rollup_hourly)
    stmt = ins.on_conflict_do_update(
        index_elements=["store_id", "local_date", "hour_utc", "scale", "mood"],
        set_={"counted": t.rollup_hourly.c.counted + ins.excluded.counted,
              "filtered": t.rollup_hourly.c.filtered + ins.excluded.filtered})
    conn.execute(stmt, rows)
    daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for k, v in counts.items():
        d = daily[(k[0], k[2], k[3])]
        d[0] += v[0]
        d[1] += v[1]
    drows = [{"store_id": store_id, "local_date": k[0], "scale": k[1], "mood": k[2], "counted": v[0],
              "filtered": v[1]} for k, v in sorted(daily.items()) if v[0] or v[1]]
    if drows:
        dins = insert_for(conn)(t.rollup_daily)
        conn.execute(dins.on_conflict_do_update(
            index_elements=["store_id", "local_date", "scale", "mood"],
            set_={"counted": t.rollup_daily.c.counted + dins.excluded.counted,
                  "filtered": t.rollup_daily.c.filtered + dins.excluded.filtered}), drows)


def bump_followups(conn, store_id: str, counts: dict[tuple, int]) -> None:
    """Add counts per ``(local_date, hour_utc, kind, value)`` of reason / praise choices."""
    rows = [{"store_id": store_id, "local_date": k[0], "hour_utc": k[1], "kind": k[2], "value": k[3], "n": v}
            for k, v in sorted(counts.items()) if v]
    if not rows:
        return
    ins = insert_for(conn)(t.rollup_followups)
    stmt = ins.on_conflict_do_update(
        index_elements=["store_id", "local_date", "hour_utc", "kind", "value"],
        set_={"n": t.rollup_followups.c.n + ins.excluded.n})
    conn.execute(stmt, rows)
