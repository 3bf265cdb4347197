"""Random secrets and their hashes: device tokens, enrolment codes, API tokens, session ids.

These are high-entropy random values, so a plain SHA-256 is the right stored form (a slow password hash
such as Argon2id protects low-entropy passwords; it would only cost time here).
"""

from __future__ import annotations

import hashlib
import secrets

#: Enrolment code alphabet: no 0/O/1/I/L, easy to read aloud and type on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # ~59 bits; valid 7 days, single use, and rate limited


def new_token() -> str:
    """A 256-bit random URL-safe token (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    """SHA-256 hex of ``value``."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def key_hash(value: str) -> str:
    """A short stored form (32 hex) of a key that is no secret but should not be kept as text: a client
    address or a user name in the shared limit tables (``server.attempts``, ``server.ratelimit``)."""
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def new_code() -> str:
    """A one-time enrolment code, shown as ``XXXX-XXXX-XXXX``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str) -> str:
    """Upper case without separators or spaces, so ``abcd-efgh`` and ``ABCDEFGH`` are the same code."""
    return "".join(ch for ch in code.upper() if ch.isalnum())
