"""Free comments customers left after a press (``followups`` of kind ``comment``), newest first."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hymy.timestamps import parse_ts

from .. import tables as t
from .praise import counted_positive


class Comment(NamedTuple):
    store_id: str
    text: str
    at: datetime  #: when it was written (aware UTC)


def comments(conn: Connection, store_ids: list[str], first: date, last: date, *, limit: int,
             positive: bool = False) -> list[Comment]:
    """At most ``limit`` comments of ``store_ids`` written on local dates ``first``..``last``, newest
    first; deleted ones never. ``positive``: only those left after a counted press on a positive face
    (``praise.counted_positive``, the rule of the praise messages)."""
    if not store_ids:
        return []
    fu, rs = t.followups, t.responses
    q = select(fu.c.store_id, fu.c.value, fu.c.pressed_at).where(
        fu.c.store_id.in_(store_ids), fu.c.kind == "comment", fu.c.value.is_not(None), fu.c.deleted_at.is_(None),
        # a UTC window around the local dates lets an index on (store_id, kind, pressed_at) do the work
        fu.c.pressed_at >= (first - timedelta(days=1)).isoformat(),
        fu.c.pressed_at < (last + timedelta(days=2)).isoformat(),
        fu.c.local_date >= first.isoformat(), fu.c.local_date <= last.isoformat())
    if positive:
        q = q.select_from(fu.join(rs, rs.c.id == fu.c.response_id)).where(counted_positive(rs))
    rows = conn.execute(q.order_by(fu.c.pressed_at.desc()).limit(limit))
    return [Comment(s, v, parse_ts(p)) for s, v, p in rows]
