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
    at: datetime  #: when the praise was left: its newest follow-up's time (aware UTC)
    praise: tuple[str, ...]  #: praise option ids chosen, in the order they were pressed
    comment: str | None  #: the free comment, if one was left and not deleted
    comment_id: str | None  #: the comment's follow-up id (for deleting it)


#: The first look reads the newest this many follow-ups per message asked for (then 4 times more, until
#: enough of them are praise after a counted positive press, or the period has no more).
_LOOK_AHEAD = 4


def praise_messages(conn: Connection, store_ids: list[str], first: date, last: date, *,
                    limit: int, with_comment: bool = False) -> list[PraiseMessage]:
    """The newest ``limit`` praise messages of ``store_ids`` on local dates ``first``..``last`` (by the
    follow-ups' local dates), newest first by when the praise was left; ``with_comment``: only those with
    a comment.

    Fast whatever the period: the newest follow-ups come from the index on (store_id, kind, pressed_at)
    alone (the time of the K-th newest is the cut-off), and only those after the cut-off are read and
    joined to their presses; a period with many follow-ups that do not count (after an unhappy face)
    looks further back, four times as far each time.
    """
    if not store_ids or limit <= 0:
        return []
    fu, rs = t.followups, t.responses
    # a UTC window around the local dates lets the index do the work
    window = (fu.c.store_id.in_(store_ids), fu.c.pressed_at >= (first - timedelta(days=1)).isoformat(),
              fu.c.pressed_at < (last + timedelta(days=2)).isoformat())
    shown = (fu.c.value.is_not(None), fu.c.deleted_at.is_(None), fu.c.local_date >= first.isoformat(),
             fu.c.local_date <= last.isoformat())
    kinds = fu.c.kind == "comment" if with_comment else fu.c.kind.in_(KINDS)
    joined = fu.join(rs, and_(rs.c.id == fu.c.response_id, rs.c.store_id == fu.c.store_id))
    look = limit * _LOOK_AHEAD
    while True:
        cutoff = conn.execute(select(fu.c.pressed_at).where(*window, kinds).order_by(fu.c.pressed_at.desc())
                              .offset(look - 1).limit(1)).scalar()
        newer = [fu.c.pressed_at >= cutoff] if cutoff is not None else []
        found: dict[str, tuple[str, str]] = {}  # response id -> (store, newest follow-up time), newest first
        for rid, sid, at in conn.execute(
                select(fu.c.response_id, fu.c.store_id, fu.c.pressed_at).select_from(joined)
                .where(*window, kinds, *shown, *newer, counted_positive(rs))
                .order_by(fu.c.pressed_at.desc(), fu.c.id.desc())):
            found.setdefault(rid, (sid, at))
        if len(found) >= limit or cutoff is None:
            break
        look *= _LOOK_AHEAD
    chosen = list(found.items())[:limit]
    if not chosen:
        return []
    parts: dict[str, tuple[list[str], list[tuple[str, str]]]] = {rid: ([], []) for rid, _ in chosen}
    rows = conn.execute(select(fu.c.response_id, fu.c.id, fu.c.kind, fu.c.value)
                        .where(*window, *shown, fu.c.kind.in_(KINDS), fu.c.response_id.in_(list(parts)))
                        .order_by(fu.c.pressed_at, fu.c.id))
    for response_id, fid, kind, value in rows:
        praise, comments = parts[response_id]
        if kind == "praise":
            if value not in praise:
                praise.append(value)
        else:
            comments.append((fid, value))
    out = []
    for rid, (sid, at) in chosen:
        praise, comments = parts[rid]
        fid, text = comments[-1] if comments else (None, None)
        out.append(PraiseMessage(sid, rid, parse_ts(at), tuple(praise), text, fid))
    return out
