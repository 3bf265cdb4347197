"""Team screen links: a revocable, read-only display link per store for a staff-room screen or tablet.

The same scheme as personal API tokens (``server.auth.create_api_token``): a 256-bit random token
(``server.tokens.new_token``) shown once, of which the database keeps only the SHA-256
(``server.tokens.hash_secret``). Whoever has the link sees that one store's team screen, without signing
in; revoking it (``revoked_at``) makes the next request answer 410. Rows in ``team_links``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from hymy.errors import ConfigError
from hymy.timestamps import format_ts, parse_ts, utcnow

from .. import tables as t
from ..db import writing
from ..tokens import hash_secret, new_token

#: ``last_used_at`` is written at most this often (seconds): a screen polling every few seconds does not
#: write every time (like sessions' ``last_seen_at``).
TOUCH_EVERY_S = 60
#: The longest name a link may have (characters).
MAX_NAME = 200
#: Longer tokens are refused before hashing (a real one has 43 characters).
MAX_TOKEN = 200


@dataclass(frozen=True, slots=True)
class TeamLink:
    """One link as the store's admin page lists it (never the token: only its hash is stored)."""

    id: int
    store_id: str
    name: str
    created_by: str | None  #: the creator's user name (None once the user is deleted)
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _ts(value: str | None) -> datetime | None:
    return parse_ts(value) if value else None


def create_link(engine: Engine, store_id: str, name: str, user_id: int | None) -> tuple[TeamLink, str]:
    """A new link for ``store_id`` named ``name`` (e.g. "Staff room"), made by ``user_id``; returns the link
    and its token, the only time the token exists outside the browser it is shown in. ConfigError names
    the field when ``name`` is empty or longer than ``MAX_NAME``."""
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise ConfigError(f"name: give the screen a name of 1..{MAX_NAME} characters (e.g. Staff room)")
    token = new_token()
    with writing(engine) as conn:
        link_id = conn.execute(insert(t.team_links).values(
            store_id=store_id, name=name, token_hash=hash_secret(token), created_by=user_id,
            created_at=format_ts(utcnow())).returning(t.team_links.c.id)).scalar_one()
    return get_link(engine, store_id, link_id), token


def links_for_store(engine: Engine, store_id: str) -> list[TeamLink]:
    """The store's links, active ones first, newest first within each."""
    rows = _select(engine, t.team_links.c.store_id == store_id)
    return sorted(rows, key=lambda link: (not link.active, -link.created_at.timestamp(), -link.id))


def get_link(engine: Engine, store_id: str, link_id: int) -> TeamLink | None:
    """The link ``link_id`` if it belongs to ``store_id``, else None."""
    found = _select(engine, t.team_links.c.store_id == store_id, t.team_links.c.id == link_id)
    return found[0] if found else None


def _select(engine: Engine, *where) -> list[TeamLink]:
    tl, u = t.team_links, t.users
    q = (select(tl.c.id, tl.c.store_id, tl.c.name, u.c.username, tl.c.created_at, tl.c.revoked_at, tl.c.last_used_at)
         .select_from(tl.outerjoin(u, u.c.id == tl.c.created_by)).where(*where))
    with engine.connect() as conn:
        return [TeamLink(r.id, r.store_id, r.name, r.username, parse_ts(r.created_at), _ts(r.revoked_at),
                         _ts(r.last_used_at)) for r in conn.execute(q)]


def revoke_link(engine: Engine, store_id: str, link_id: int) -> bool:
    """Revoke ``link_id`` of ``store_id`` (the next request with its token answers 410). True if it was
    active; False if it does not exist, belongs to another store or was revoked already."""
    tl = t.team_links
    with writing(engine) as conn:
        done = conn.execute(update(tl).where(tl.c.id == link_id, tl.c.store_id == store_id, tl.c.revoked_at.is_(None))
                            .values(revoked_at=format_ts(utcnow())))
    return done.rowcount == 1


@dataclass(frozen=True, slots=True)
class Opened:
    """What a token opens: ``store_id`` of an active link; ``revoked`` True when the link was revoked."""

    store_id: str
    revoked: bool


def open_link(engine: Engine, token: str | None) -> Opened | None:
    """The store a link's ``token`` opens, or None for a token never issued. Records the use (at most
    once every ``TOUCH_EVERY_S`` seconds) when the link is active."""
    if not token or len(token) > MAX_TOKEN:
        return None
    tl = t.team_links
    h = hash_secret(token)
    with engine.connect() as conn:
        row = conn.execute(select(tl.c.store_id, tl.c.revoked_at, tl.c.last_used_at).where(tl.c.token_hash == h)).first()
    if row is None:
        return None
    if row.revoked_at is not None:
        return Opened(row.store_id, True)
    now = utcnow()
    if row.last_used_at is None or parse_ts(row.last_used_at) < now - timedelta(seconds=TOUCH_EVERY_S):
        with writing(engine) as conn:
            conn.execute(update(tl).where(tl.c.token_hash == h).values(last_used_at=format_ts(now)))
    return Opened(row.store_id, False)
