"""Object-level authorisation: which stores a user may see results of, and whose devices they manage.

One rule set, used by every manager endpoint (and the dashboard):

- ``admin``: every store and region.
- ``regional_manager``: stores of their regions (plus stores assigned directly).
- ``store_manager``: their stores.
- ``technician``: devices of their stores (every store if none assigned); never results.
"""

from __future__ import annotations

from sqlalchemy import select

from .. import tables as t
from .users import User


def visible_store_ids(conn, user: User) -> set[str]:
    """Stores whose results ``user`` may read (empty for technicians)."""
    if user.role == "admin":
        return set(conn.execute(select(t.stores.c.id)).scalars())
    if user.role == "technician":
        return set()
    ids = set(user.store_ids)
    if user.role == "regional_manager" and user.region_ids:
        ids |= set(conn.execute(select(t.stores.c.id).where(t.stores.c.region_id.in_(user.region_ids))).scalars())
    return ids


def region_ids_visible(conn, user: User) -> set[str]:
    """Regions whose combined results ``user`` may read."""
    if user.role == "admin":
        return set(conn.execute(select(t.regions.c.id)).scalars())
    if user.role == "regional_manager":
        return set(user.region_ids)
    return set()


def can_see_results(conn, user: User, store_id: str) -> bool:
    return store_id in visible_store_ids(conn, user)


def device_store_ids(conn, user: User) -> set[str]:
    """Stores whose devices (fleet status) ``user`` may see."""
    if user.role == "admin" or (user.role == "technician" and not user.store_ids):
        return set(conn.execute(select(t.stores.c.id)).scalars())
    if user.role == "technician":
        return set(user.store_ids)
    return visible_store_ids(conn, user)


def can_manage_devices(conn, user: User, store_id: str) -> bool:
    """May add, re-code or revoke devices of ``store_id`` (admins and that store's technicians)."""
    return user.role in ("admin", "technician") and store_id in device_store_ids(conn, user)
