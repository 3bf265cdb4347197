"""The dashboard's own view of the server: who may see which store, and forms -> the server's admin and
auth calls. Results are not read here: pages read them through ``server.results`` (the one read path
the manager API, CSV export and reports use too), on :meth:`DashboardData.connect`.

Changes go through the server's admin and auth APIs (``server.admin``, ``server.auth``) so the dashboard
never bypasses their validation. Object-level authorisation: :meth:`DashboardData.stores_for` is the one
list a user's pages may show.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from urllib.parse import urlencode

from sqlalchemy import Connection, Engine, and_, select

from hymy.protocol import StoreConfig
from hymy.timestamps import parse_ts

from .. import admin, auth
from .. import tables as t
from ..attempts import AttemptLog
from ..settings import Settings
from .throttle import LoginThrottle
from .views import StoreRef


@lru_cache(maxsize=4096)
def _store_ref(store_id: str, name: str, region: str | None, region_id: str | None, timezone: str,
               config_json: str) -> StoreRef:
    """A store row as pages take it. Remembered per row (the key is the whole row, so an edited store or a
    renamed region is a new key): every page lists the user's stores, and parsing a hundred stores'
    settings on each request was a fifth of the Compare page."""
    cfg = json.loads(config_json)
    hours = tuple((day, tuple([iv] if isinstance(iv, str) else iv))
                  for day, iv in (cfg.get("opening_hours") or {}).items())
    return StoreRef(id=store_id, name=name, region=region, region_id=region_id, timezone=timezone,
                    scale=int(cfg.get("question", {}).get("scale", 4)),
                    languages=tuple(cfg.get("languages", ("fi",))), opening_hours=hours)


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    name: str


class DashboardData:
    """The dashboard's view of one server database. Built once per app by the app factory."""

    def __init__(self, engine: Engine, settings: Settings | None = None, throttle: LoginThrottle | None = None):
        self.engine = engine
        self.settings = settings or Settings()
        self.session_cookie = self.settings.session_cookie
        #: Secure cookies are set when the request is HTTPS (or a proxy says so); this forces them always.
        self.force_https = self.settings.force_https
        self.secure_cookies = self.settings.secure_cookies
        self.throttle = throttle or LoginThrottle(AttemptLog(engine))

    # ------------------------------------------------------------------ who may see what

    def _stores(self, ids: set[str]) -> list[StoreRef]:
        if not ids:
            return []
        q = (select(t.stores.c.id, t.stores.c.name, t.stores.c.timezone, t.stores.c.region_id,
                    t.stores.c.config_json, t.regions.c.name.label("region_name"))
             .select_from(t.stores.outerjoin(t.regions, t.regions.c.id == t.stores.c.region_id))
             .where(t.stores.c.id.in_(sorted(ids))).order_by(t.stores.c.name))
        with self.engine.connect() as conn:
            return [self._ref(r) for r in conn.execute(q)]

    @staticmethod
    def _ref(row) -> StoreRef:
        return _store_ref(row.id, row.name, row.region_name, row.region_id, row.timezone, row.config_json)

    def stores_for(self, user) -> list[StoreRef]:
        """The stores whose results ``user`` may see (``server.auth.visible_store_ids``; none for technicians)."""
        with self.engine.connect() as conn:
            ids = auth.visible_store_ids(conn, user)
        return self._stores(ids)

    def store(self, store_id: str) -> StoreRef | None:
        """One store by id, or None. No access check: for callers that have checked the right to see it
        (a team screen link opens exactly its own store)."""
        found = self._stores({store_id})
        return found[0] if found else None

    def device_stores_for(self, user) -> list[StoreRef]:
        """The stores whose devices ``user`` may manage (admins; technicians: assigned stores, or all)."""
        if user.role not in ("admin", "technician"):
            return []
        with self.engine.connect() as conn:
            ids = auth.device_store_ids(conn, user)
        return self._stores(ids)

    def regions_for(self, user) -> list[Region]:
        """The regions of the stores ``user`` may see, by name."""
        return self.regions_of(self.stores_for(user))

    @staticmethod
    def regions_of(stores: list[StoreRef]) -> list[Region]:
        """The regions of ``stores`` (from :meth:`stores_for`), by name."""
        seen = {}
        for s in stores:
            if s.region_id and s.region_id not in seen:
                seen[s.region_id] = Region(s.region_id, s.region or s.region_id)
        return sorted(seen.values(), key=lambda r: r.name)

    # ------------------------------------------------------------------ results (read through ``server.results``)

    def connect(self) -> Connection:
        """A connection for ``server.results`` queries: ``with d.connect() as conn: results.daily(conn, ...)``."""
        return self.engine.connect()

    def store_config(self, store_id: str) -> StoreConfig | None:
        try:
            return admin.store_config(self.engine, store_id)
        except LookupError:
            return None

    # ------------------------------------------------------------------ exports (the server's CSV endpoints)

    @staticmethod
    def raw_csv_url(store_id: str, first: date, last: date) -> str:
        return "/api/v1/export/responses.csv?" + urlencode({"store": store_id, "from": first.isoformat(),
                                                           "to": last.isoformat()})

    @staticmethod
    def daily_csv_url(store_id: str, first: date, last: date) -> str:
        return "/api/v1/export/daily.csv?" + urlencode({"store": store_id, "from": first.isoformat(),
                                                       "to": last.isoformat()})

    # ------------------------------------------------------------------ devices

    def devices_for(self, user) -> list[dict]:
        stores = {s.id: s for s in self.device_stores_for(user)}
        if not stores:
            return []
        d = t.devices
        with self.engine.connect() as conn:
            rows = conn.execute(select(d).where(d.c.store_id.in_(list(stores))).order_by(d.c.store_id, d.c.name,
                                                                                            d.c.id)).all()
        out = []
        for r in rows:
            out.append({
                "id": r.id, "name": r.name, "store_id": r.store_id, "store_name": stores[r.store_id].name,
                "last_seen": parse_ts(r.last_seen_at) if r.last_seen_at else None, "app_version": r.app_version,
                "pending": r.pending, "oldest_pending_s": r.oldest_pending_s, "quarantined": r.quarantined,
                "clock_synced": r.clock_synced, "disk_free_mb": r.disk_free_mb, "cpu_temp_c": r.cpu_temp_c,
                "last_error": r.last_error, "revoked": r.revoked_at is not None, "enrolled": r.enrolled_at is not None,
            })
        return out

    def add_device(self, store_id: str, name: str | None) -> tuple[str, datetime]:
        new = admin.create_device(self.engine, store_id, name, valid_days=self.settings.enrolment_valid_days)
        return new.code, parse_ts(new.expires_at)

    def revoke_device(self, device_id: str) -> None:
        admin.revoke_device(self.engine, device_id)

    # ------------------------------------------------------------------ admin

    def delete_comment(self, followup_id: str) -> bool:
        """Erase a comment's text (``server.admin.delete_comment``); True if it was found."""
        return admin.delete_comment(self.engine, followup_id)

    def save_store_config(self, store_id: str, cfg: StoreConfig) -> None:
        admin.update_store_config(self.engine, store_id, cfg)

    def add_store(self, name: str, timezone: str, region_id: str | None) -> str:
        return admin.create_store(self.engine, name, timezone=timezone, region_id=region_id)

    def users(self) -> list[dict]:
        u = t.users
        with self.engine.connect() as conn:
            rows = conn.execute(select(u.c.id, u.c.username, u.c.role).where(u.c.disabled_at.is_(None))
                                .order_by(u.c.username)).all()
            stores = defaultdict(list)
            for uid, name in conn.execute(select(t.user_stores.c.user_id, t.stores.c.name).select_from(
                    t.user_stores.join(t.stores, t.stores.c.id == t.user_stores.c.store_id))):
                stores[uid].append(name)
            for uid, name in conn.execute(select(t.user_regions.c.user_id, t.regions.c.name).select_from(
                    t.user_regions.join(t.regions, and_(t.regions.c.id == t.user_regions.c.region_id)))):
                stores[uid].append(name)
        return [{"id": r.id, "name": r.username, "role": r.role, "scope": ", ".join(sorted(stores[r.id]))}
                for r in rows]

    def add_user(self, username: str, password: str, role: str, store_ids: list[str], region_ids: list[str]) -> None:
        """Raises ValueError (ConfigError / NotFound) with a sentence naming the field."""
        auth.create_user(self.engine, username, password, role, stores=store_ids, regions=region_ids)

    # ------------------------------------------------------------------ sign-in and sessions (server.auth)

    def authenticate(self, username: str, password: str):
        if not username or not password or len(username) > 200 or len(password) > 1000:
            return None
        return auth.verify_password(self.engine, username, password)

    def create_session(self, user) -> str:
        return auth.create_session(self.engine, user)

    def user_for_session(self, session_id: str | None):
        return auth.user_for_session(self.engine, session_id, idle_s=self.settings.session_idle_s)

    def end_session(self, session_id: str) -> None:
        auth.delete_session(self.engine, session_id)

    def change_password(self, user, new_password: str, keep_session: str | None = None) -> str:
        """Set the password (every session of the user ends) and return a fresh session for this browser."""
        auth.set_password(self.engine, user.id, new_password)
        return auth.create_session(self.engine, user)

    def set_user_lang(self, user, lang: str) -> None:
        """The language is remembered in a cookie; the server's user table has no column for it."""
