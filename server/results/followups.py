"""Reason and praise choices (``rollup_followups``) and their names in a language (the stores' configs)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from .. import tables as t
from .hourly import local_hour

f = t.rollup_followups
#: The language whose text stands in for a missing translation (the admin form requires it).
FALLBACK_LANG = "fi"


class Count(NamedTuple):
    """How often one follow-up answer was chosen: ``kind`` ``reason`` or ``praise``, ``value`` its id."""

    kind: str
    value: str
    n: int


def followup_counts(conn: Connection, store_ids: list[str], first: date, last: date,
                    kind: str | None = None) -> list[Count]:
    """Reason and praise choices over ``store_ids`` and local dates ``first``..``last`` (only ``kind``'s,
    when given): ordered by kind, then most frequent first, then id."""
    if not store_ids:
        return []
    n = func.sum(f.c.n)
    where = [f.c.store_id.in_(store_ids), f.c.local_date >= first.isoformat(), f.c.local_date <= last.isoformat()]
    if kind is None:
        rows = conn.execute(select(f.c.kind, f.c.value, n).where(*where).group_by(f.c.kind, f.c.value)).all()
    else:  # one kind: grouped by value alone (a third less work for the database)
        rows = [(kind, v, c) for v, c in conn.execute(select(f.c.value, n).where(*where, f.c.kind == kind)
                                                      .group_by(f.c.value))]
    out = [Count(k, v, int(c)) for k, v, c in rows if c]
    return sorted(out, key=lambda r: (r.kind, -r.n, r.value))


def followup_names(conn: Connection, store_ids: list[str], kind: str, lang: str) -> dict[str, str]:
    """Reason (``kind="reason"``) or praise ids -> text in ``lang`` (else Finnish, else the id), from the
    stores' configs; the first store (by id) naming an id wins. One query, no model validation (fast for
    100 stores)."""
    if not store_ids:
        return {}
    key = "reasons" if kind == "reason" else "praise"
    names: dict[str, str] = {}
    for (cfg_json,) in conn.execute(select(t.stores.c.config_json).where(t.stores.c.id.in_(store_ids))
                                    .order_by(t.stores.c.id)):
        for item in json.loads(cfg_json).get(key, []):
            texts = item.get("texts", {})
            names.setdefault(item["id"], texts.get(lang) or texts.get(FALLBACK_LANG) or item["id"])
    return names


def followups_by_hour(conn: Connection, days: Mapping[str, tuple[str, date]], kind: str = "reason") -> dict[str, dict[int, list[Count]]]:
    """Choices of ``kind`` per local hour of one local date per store: ``days`` maps a store id to its
    ``(zone, local date)``. Per store and hour (the hour of the bucket's local start, as
    :func:`server.results.by_local_hour`), most frequent first. One query: O(stores x hours x answers) rows."""
    if not days:
        return {}
    rows: dict[str, list] = defaultdict(list)
    for sid, day, hour, value, n in conn.execute(
            select(f.c.store_id, f.c.local_date, f.c.hour_utc, f.c.value, func.sum(f.c.n))
            .where(f.c.store_id.in_(sorted(days)), f.c.local_date.in_(sorted({d.isoformat() for _z, d in days.values()})),
                   f.c.kind == kind)
            .group_by(f.c.store_id, f.c.local_date, f.c.hour_utc, f.c.value)):
        tz, local = days[sid]
        if day == local.isoformat() and n:
            rows[sid].append((hour, value, int(n)))
    out: dict[str, dict[int, list[Count]]] = {}
    for sid, rs in rows.items():
        tz, local = days[sid]
        per_hour: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for hour_utc, value, n in rs:
            hour = local_hour(local, tz, hour_utc)
            if hour is not None:
                per_hour[hour][value] += n
        out[sid] = {hr: sorted((Count(kind, v, n) for v, n in vs.items()), key=lambda c: (-c.n, c.value))
                    for hr, vs in sorted(per_hour.items())}
    return out
