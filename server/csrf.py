"""CSRF protection for every dashboard form.

Signed-in forms carry a token derived from the session id (HMAC-SHA256 keyed by the session id, which
is 256-bit random and only ever in an HttpOnly cookie): an attacker's page can neither read the cookie
nor compute the token, and no server-side state is needed, so several server instances agree.
The login form has no session yet: it uses a double-submit cookie (``hymy_csrf``, random, SameSite=Strict)
whose value must come back in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CSRF_FIELD = "csrf_token"
PRELOGIN_COOKIE = "hymy_csrf"


def token_for_session(session_id: str) -> str:
    """The CSRF token of forms shown to the holder of ``session_id``."""
    return hmac.new(session_id.encode(), b"hymy-dashboard-csrf-v1", hashlib.sha256).hexdigest()


def check_session_token(session_id: str | None, submitted: str | None) -> bool:
    """True when ``submitted`` is the token of ``session_id`` (constant-time comparison)."""
    if not session_id or not submitted:
        return False
    return hmac.compare_digest(token_for_session(session_id), submitted)


def new_prelogin_token() -> str:
    return secrets.token_urlsafe(32)


def check_prelogin_token(cookie: str | None, submitted: str | None) -> bool:
    if not cookie or not submitted or len(cookie) < 32:
        return False
    return hmac.compare_digest(cookie, submitted)
