"""Users, passwords, sessions, API tokens and object-level authorisation (the dashboard reuses these).

- Passwords: Argon2id (:mod:`.passwords`).
- Sessions: server-side rows in the database (so any instance can serve any request); the browser holds
  only a random 256-bit id, and the database only its SHA-256. A new id at every sign-in.
- Personal API tokens: random 256-bit, stored hashed, revocable, sent as ``Authorization: Bearer``.
- Roles: ``admin`` (everything), ``regional_manager`` (stores of their regions), ``store_manager``
  (their stores), ``technician`` (devices only, never results). See :mod:`.access`.
"""

from .access import (
    can_manage_devices,
    can_see_results,
    device_store_ids,
    region_ids_visible,
    visible_store_ids,
)
from .passwords import hash_password, password_ok
from .users import (
    ROLES,
    User,
    create_api_token,
    create_session,
    create_user,
    delete_session,
    get_user,
    revoke_api_token,
    set_password,
    user_for_session,
    user_for_token,
    verify_password,
)

__all__ = [
    "ROLES", "User", "can_manage_devices", "can_see_results", "create_api_token", "create_session",
    "create_user", "delete_session", "device_store_ids", "get_user", "hash_password", "password_ok",
    "region_ids_visible", "revoke_api_token", "set_password", "user_for_session", "user_for_token",
    "verify_password", "visible_store_ids",
]
