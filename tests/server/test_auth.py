"""server.auth: Argon2id passwords, sessions, API tokens (pure and on the database)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from hymy.errors import ConfigError
from server import auth
from server import tables as t
from server.auth.passwords import HASHER


def test_auth_password_hash_is_argon2id_at_owasp_strength():
    h = auth.hash_password("s3cret")
    assert h.startswith("$argon2id$")
    assert HASHER.memory_cost >= 19456 and HASHER.time_cost >= 2
    assert auth.password_ok(h, "s3cret") and not auth.password_ok(h, "S3cret")
    assert not auth.password_ok(None, "s3cret")
    assert PasswordHasher().verify(h, "s3cret")


def test_auth_users_sessions_tokens(engine):
    u = auth.create_user(engine, "anna", "pw-pw-pw", "admin")
    with pytest.raises(ConfigError):
        auth.create_user(engine, "anna", "x", "admin")
    with pytest.raises(ConfigError):
        auth.create_user(engine, "bob", "x", "superuser")
    assert auth.verify_password(engine, "anna", "pw-pw-pw") == u
    assert auth.verify_password(engine, "anna", "nope") is None
    assert auth.verify_password(engine, "nobody", "pw-pw-pw") is None
    sid = auth.create_session(engine, u)
    assert auth.user_for_session(engine, sid) == u
    assert auth.user_for_session(engine, sid, idle_s=-1) is None  # idle too long: gone
    assert auth.user_for_session(engine, sid) is None
    token = auth.create_api_token(engine, u, "ci")
    assert auth.user_for_token(engine, token) == u
    with engine.connect() as conn:
        stored = conn.execute(select(t.api_tokens.c.token_hash)).scalars().all()
        sessions = conn.execute(select(t.sessions.c.id_hash)).scalars().all()
    assert token not in stored and sid not in sessions
    auth.set_password(engine, u.id, "new-pw")
    assert auth.verify_password(engine, "anna", "new-pw") == u
