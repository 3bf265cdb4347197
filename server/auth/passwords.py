"""Argon2id password hashes (argon2-cffi) at OWASP's recommended parameters or stronger."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet (Argon2id): m=19 MiB, t=2, p=1 is the minimum; we use
# m=46 MiB, t=1, p=1 (an equivalent row of the same table) raised to t=2 for margin.
HASHER = PasswordHasher(time_cost=2, memory_cost=47104, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

#: Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY = HASHER.hash("hymy-no-such-user")


def hash_password(password: str) -> str:
    """An Argon2id PHC string for ``password``."""
    if not password:
        raise ValueError("password: must not be empty")
    return HASHER.hash(password)


def password_ok(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored`` (None checks against a dummy, same cost, False)."""
    try:
        return HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return HASHER.check_needs_rehash(stored)
