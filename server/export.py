"""CSV exports: raw events of a store for a range of local dates, and its daily results.

Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import Engine, select

from hymy.errors import NotFound
from hymy.timestamps import format_ts

from . import results
from . import tables as t
from .localtime import day_bounds

DAILY_HEADER = ["date", "n", "mood_1", "mood_2", "mood_3", "mood_4", "mood_5", "happy_index", "positive_pct",
                "negative_pct", "filtered"]
RAW_HEADER = ["type", "id", "response_id", "pressed_at", "local_date", "mood", "scale", "flags", "source",
              "question_id", "kind", "value", "device_id", "clock_synced", "original_pressed_at"]


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([_safe(v) for v in row])
    return buf.getvalue()


def _blank(value):
    return "" if value is None else value


def responses_csv(conn, store_id: str, tz: str, start: date, end: date) -> str:
    lo, _ = day_bounds(start, tz)
    _, hi = day_bounds(end, tz)
    lo_s, hi_s = format_ts(lo), format_ts(hi)
    r, f = t.responses, t.followups
    resp = conn.execute(select(r.c.id, r.c.pressed_at, r.c.local_date, r.c.mood, r.c.scale, r.c.flags, r.c.voided,
                               r.c.source, r.c.question_id, r.c.device_id, r.c.clock_synced, r.c.original_pressed_at)
                        .where(r.c.store_id == store_id, r.c.pressed_at >= lo_s, r.c.pressed_at < hi_s)
                        .order_by(r.c.pressed_at, r.c.id)).all()
    fus = conn.execute(select(f.c.id, f.c.pressed_at, f.c.local_date, f.c.response_id, f.c.kind, f.c.value,
                              f.c.device_id)
                       .where(f.c.store_id == store_id, f.c.pressed_at >= lo_s, f.c.pressed_at < hi_s)
                       .order_by(f.c.pressed_at, f.c.id)).all()
    rows = []
    for x in resp:
        flags = [fl for fl in x.flags.split(",") if fl]
        if x.voided and "maintenance" not in flags:
            flags.append("maintenance")
        rows.append(("response", x.id, "", x.pressed_at, x.local_date, x.mood, x.scale, ",".join(sorted(flags)),
                     x.source, x.question_id, "", "", x.device_id, x.clock_synced, x.original_pressed_at or ""))
    for x in fus:
        rows.append(("followup", x.id, x.response_id, x.pressed_at, x.local_date, "", "", "", "", "", x.kind,
                     _blank(x.value), x.device_id, "", ""))
    return _csv(RAW_HEADER, rows)


def daily_csv(conn, store_id: str, start: date, end: date) -> str:
    rows = []
    for day, fig in results.daily(conn, [store_id], start, end).items():
        d = fig.to_json()
        rows.append((day.isoformat(), d["n"], *[d["counts"].get(str(m), 0) for m in range(1, 6)],
                     _blank(d["happy_index"]), _blank(d["positive_pct"]), _blank(d["negative_pct"]), d["filtered"]))
    return _csv(DAILY_HEADER, rows)


def export_csv(engine: Engine, store_id: str, start: date, end: date, kind: str = "daily") -> str:
    """``kind`` ``responses`` (raw events) or ``daily`` (results) of ``store_id`` as CSV text."""
    with engine.connect() as conn:
        tz = conn.execute(select(t.stores.c.timezone).where(t.stores.c.id == store_id)).scalar()
        if tz is None:
            raise NotFound(f"store {store_id!r} does not exist; see `hymy admin list`")
        return responses_csv(conn, store_id, tz, start, end) if kind == "responses" else daily_csv(conn, store_id, start, end)
