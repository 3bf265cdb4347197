"""Users, sign-in, server-side sessions and personal API tokens (all rows in the database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, insert, select, update

from hymy.errors import ConfigError, NotFound
from hymy.timestamps import format_ts, parse_ts, utcnow

from .. import tables as t
from ..db import writing
from ..tokens import hash_secret, new_token
from .passwords import hash_password, needs_rehash, password_ok

ROLES = ("admin", "regional_manager", "store_manager", "technician")
#: Sessions idle longer than this (seconds) are gone (default 12 h); Settings.session_idle_s overrides.
SESSION_IDLE_S = 12 * 3600
#: last_seen_at is written at most this often (seconds), so reading pages does not write every time.
_TOUCH_EVERY_S = 60


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    display_name: str | None = None
    email: str | None = None
    store_ids: tuple[str, ...] = ()  #: stores assigned directly (store managers, technicians)
    region_ids: tuple[str, ...] = ()  #: regions assigned (regional managers)


def create_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    *,
    stores: list[str] | tuple[str, ...] = (),
    regions: list[str] | tuple[str, ...] = (),
    display_name: str | None = None,
    email: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Add a user with an Argon2id password hash; ``stores``/``regions`` scope managers and technicians.

    ``password_hash`` (an Argon2id PHC string made by :func:`hash_password`) may replace ``password``,
    e.g. to import users or to make many users with one hash in tests.
    """
    if role not in ROLES:
        raise ConfigError(f"role: {role!r} is not valid; use one of {', '.join(ROLES)}")
    if not username or len(username) > 200:
        raise ConfigError("username: must be 1..200 characters")
    if password_hash is not None and not password_hash.startswith("$argon2id$"):
        raise ConfigError("password_hash: must be an Argon2id PHC string ($argon2id$...)")
    hashed = password_hash or hash_password(password)
    with writing(engine) as conn:
        if conn.execute(select(t.users.c.id).where(t.users.c.username == username)).first():
            raise ConfigError(f"username: {username!r} already exists")
        for sid in stores:
            if not conn.execute(select(t.stores.c.id).where(t.stores.c.id == sid)).first():
                raise NotFound(f"store {sid!r} does not exist")
        for rid in regions:
            if not conn.execute(select(t.regions.c.id).where(t.regions.c.id == rid)).first():
                raise NotFound(f"region {rid!r} does not exist")
        uid = conn.execute(insert(t.users).values(
            username=username, password_hash=hashed, role=role, display_name=display_name, email=email,
            created_at=format_ts(utcnow())).returning(t.users.c.id)).scalar_one()
        for sid in stores:
            conn.execute(insert(t.user_stores).values(user_id=uid, store_id=sid))
        for rid in regions:
            conn.execute(insert(t.user_regions).values(user_id=uid, region_id=rid))
    return get_user(engine, uid)


def _load(conn, row) -> User:
    stores = tuple(conn.execute(select(t.user_stores.c.store_id).where(t.user_stores.c.user_id == row.id)
                                .order_by(t.user_stores.c.store_id)).scalars())
    regions = tuple(conn.execute(select(t.user_regions.c.region_id).where(t.user_regions.c.user_id == row.id)
                                 .order_by(t.user_regions.c.region_id)).scalars())
    return User(row.id, row.username, row.role, row.display_name, row.email, stores, regions)


def get_user(engine_or_conn, user_id: int) -> User:
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            return get_user(conn, user_id)
    row = engine_or_conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"user {user_id!r} does not exist")
    return _load(engine_or_conn, row)


def verify_password(engine: Engine, username: str, password: str) -> User | None:
    """The user if ``password`` is right (and the account enabled), else None; equal cost either way."""
    with engine.connect() as conn:
        row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
        ok = password_ok(row.password_hash if row is not None else None, password)
        if not ok or row is None or row.disabled_at is not None:
            return None
        user = _load(conn, row)
    if needs_rehash(row.password_hash):
        set_password(engine, user.id, password)
    return user


def set_password(engine: Engine, user_id: int, password: str) -> None:
    """Replace a password; every session of the user ends."""
    hashed = hash_password(password)
    with writing(engine) as conn:
        conn.execute(update(t.users).where(t.users.c.id == user_id).values(password_hash=hashed))
        conn.execute(delete(t.sessions).where(t.sessions.c.user_id == user_id))


def create_session(engine: Engine, user: User | int) -> str:
    """A new random session id for ``user`` (call at every sign-in: the id is never reused)."""
    uid = user.id if isinstance(user, User) else int(user)
    sid = new_token()
    now = format_ts(utcnow())
    with writing(engine) as conn:
        conn.execute(insert(t.sessions).values(id_hash=hash_secret(sid), user_id=uid, created_at=now, last_seen_at=now))
    return sid


def user_for_session(engine: Engine, session_id: str | None, idle_s: int = SESSION_IDLE_S) -> User | None:
    """The signed-in user of ``session_id``, or None (unknown, idle longer than ``idle_s``, disabled)."""
    if not session_id or len(session_id) > 200:
        return None
    h = hash_secret(session_id)
    now = utcnow()
    with engine.connect() as conn:
        row = conn.execute(select(t.sessions).where(t.sessions.c.id_hash == h)).first()
        if row is None:
            return None
        if parse_ts(row.last_seen_at) < now - timedelta(seconds=idle_s):
            stale = True
        else:
            stale = False
            urow = conn.execute(select(t.users).where(t.users.c.id == row.user_id)).first()
            if urow is None or urow.disabled_at is not None:
                return None
            user = _load(conn, urow)
    if stale:
        delete_session(engine, session_id)
        return None
    if parse_ts(row.last_seen_at) < now - timedelta(seconds=_TOUCH_EVERY_S):
        with writing(engine) as conn:
            conn.execute(update(t.sessions).where(t.sessions.c.id_hash == h).values(last_seen_at=format_ts(now)))
    return user


def delete_session(engine: Engine, session_id: str) -> None:
    """Sign out: the session row is deleted."""
    with writing(engine) as conn:
        conn.execute(delete(t.sessions).where(t.sessions.c.id_hash == hash_secret(session_id)))


def create_api_token(engine: Engine, user: User | int, name: str | None = None) -> str:
    """A personal API token (256-bit random, shown once, stored hashed) for ``Authorization: Bearer``."""
    uid = user.id if isinstance(user, User) else int(user)
    token = "hymy_" + new_token()
    with writing(engine) as conn:
        conn.execute(insert(t.api_tokens).values(token_hash=hash_secret(token), user_id=uid, name=name,
                                                 created_at=format_ts(utcnow())))
    return token


def revoke_api_token(engine: Engine, token: str) -> bool:
    with writing(engine) as conn:
        done = conn.execute(update(t.api_tokens).where(t.api_tokens.c.token_hash == hash_secret(token))
                            .values(revoked_at=format_ts(utcnow())))
    return done.rowcount == 1


def user_for_token(engine: Engine, token: str | None) -> User | None:
    """The user of a (not revoked) personal API token, or None."""
    if not token or len(token) > 200:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(t.api_tokens).where(
            t.api_tokens.c.token_hash == hash_secret(token), t.api_tokens.c.revoked_at.is_(None))).first()
        if row is None:
            return None
        urow = conn.execute(select(t.users).where(t.users.c.id == row.user_id)).first()
        if urow is None or urow.disabled_at is not None:
            return None
        return _load(conn, urow)
