"""Praise messages: what a happy customer left after a counted positive press (the praise options chosen and
the free comment), one message per press, newest first. The manager's Praise page and the staff's team
screen read the same messages, so a manager sees exactly what reaches the staff.

Never shown: anything after a neutral or negative face, after a press that is not counted (repeat,
outside opening hours, maintenance, voided), and deleted comments (``server.admin.delete_comment``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from hymy.timestamps import parse_ts

from .. import tables as t

#: The follow-up kinds a praise message is made of.
KINDS = ("praise", "comment")


def counted_positive(responses=t.responses):
    """SQL condition: a counted press (no flag, not voided) on a positive face (``hymy.score.is_positive``)."""
    return and_(responses.c.mood * 2 > responses.c.scale + 1, responses.c.flags == "",
                responses.c.voided.is_(False))


class PraiseMessage(NamedTuple):
    store_id: str
    response_id: str  #: the press's id
    at: datetime  #: the press's time (aware UTC)
    praise: tuple[str, ...]  #: praise option ids chosen, in the order they were pressed
    comment: str | None  #: the free comment, if one was left and not deleted
    comment_id: str | None  #: the comment's follow-up id (for deleting it)


def praise_messages(conn: Connection, store_ids: list[str], first: date, last: date, *,
                    limit: int, with_comment: bool = False) -> list[PraiseMessage]:
    """The newest ``limit`` praise messages of ``store_ids`` on local dates ``first``..``last`` (by the
    follow-ups' local dates), newest press first; ``with_comment``: only those with a comment. Two
    queries: the presses, then their follow-ups."""
    if not store_ids or limit <= 0:
        return []
    fu, rs = t.followups, t.responses
    where = (fu.c.store_id.in_(store_ids), fu.c.value.is_not(None), fu.c.deleted_at.is_(None),
             # a UTC window around the local dates lets the index on (store_id, kind, pressed_at) do the work
             fu.c.pressed_at >= (first - timedelta(days=1)).isoformat(),
             fu.c.pressed_at < (last + timedelta(days=2)).isoformat(),
             fu.c.local_date >= first.isoformat(), fu.c.local_date <= last.isoformat())
    joined = fu.join(rs, and_(rs.c.id == fu.c.response_id, rs.c.store_id == fu.c.store_id))
    kinds = fu.c.kind == "comment" if with_comment else fu.c.kind.in_(KINDS)
    presses = conn.execute(
        select(rs.c.id, rs.c.store_id, rs.c.pressed_at).select_from(joined).where(*where, kinds, counted_positive(rs))
        .group_by(rs.c.id, rs.c.store_id, rs.c.pressed_at).order_by(rs.c.pressed_at.desc(), rs.c.id.desc())
        .limit(limit)).all()
    if not presses:
        return []
    parts: dict[str, tuple[list[str], list[tuple[str, str]]]] = {r.id: ([], []) for r in presses}
    rows = conn.execute(select(fu.c.response_id, fu.c.id, fu.c.kind, fu.c.value)
                        .where(*where, fu.c.kind.in_(KINDS), fu.c.response_id.in_(list(parts)))
                        .order_by(fu.c.pressed_at, fu.c.id))
    for response_id, fid, kind, value in rows:
        praise, comments = parts[response_id]
        if kind == "praise":
            if value not in praise:
                praise.append(value)
        else:
            comments.append((fid, value))
    out = []
    for r in presses:
        praise, comments = parts[r.id]
        fid, text = comments[-1] if comments else (None, None)
        out.append(PraiseMessage(r.store_id, r.id, parse_ts(r.pressed_at), tuple(praise), text, fid))
    return out

