"""What the dashboard reads and changes, over the server's own tables and functions.

Results come from the server's rollups (``rollup_hourly``, ``rollup_followups``), so every page costs
O(stores x days asked), never O(responses). Changes go through the server's admin and auth APIs
(``server.admin``, ``server.auth``) so the dashboard never bypasses their validation.
Object-level authorisation: :meth:`DashboardData.stores_for` is the one list a user's pages may show.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode

from sqlalchemy import Date, Engine, Integer, and_, case, cast, func, literal, select

from hymy.protocol import StoreConfig
from hymy.score import score_tally
from hymy.timestamps import parse_ts

from .. import auth
from .. import tables as t
from ..localtime import day_bounds, offset_changes
from .honest import Figure, figure
from .throttle import LoginThrottle
from .views import StoreRef


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    name: str


def figure_from_rows(rows) -> Figure:
    """A Figure from ``(scale, mood, counted, filtered)`` rows; mixed scales are scored together and
    the counts shown are those of the most used scale."""
    by_scale: dict[int, list[int]] = {}
    filtered = 0
    for scale, mood, counted, filt in rows:
        by_scale.setdefault(scale, [0] * scale)[mood - 1] += counted
        filtered += filt
    if not by_scale:
        return figure([0, 0, 0, 0], 4, filtered)
    if len(by_scale) == 1:
        (scale, counts), = by_scale.items()
        return figure(counts, scale, filtered)
    main = max(by_scale, key=lambda s: sum(by_scale[s]))
    tally = [(s, m, c) for s, cs in by_scale.items() for m, c in enumerate(cs, 1)]
    return Figure(scale=main, counts=tuple(by_scale[main]), filtered=filtered, score=score_tally(tally))


def offsets(tz: str, first: date, last: date) -> list[tuple[str | None, int]]:
    """The zone's UTC offsets (minutes) over local dates ``first``..``last``: ``[(until_utc, minutes), ...]``
    where each offset holds before ``until_utc`` (RFC 3339, the exact instant of the change) and the last
    one has ``until_utc`` None."""
    from hymy.hours import zone
    from hymy.timestamps import format_ts

    z = zone(tz)

    def minutes(at: datetime) -> int:
        return int(at.astimezone(z).utcoffset().total_seconds() // 60)

    start, _ = day_bounds(first, tz)
    _, end = day_bounds(last, tz)
    changes = offset_changes(tz, start, end)
    out: list[tuple[str | None, int]] = [(format_ts(c), minutes(c - timedelta(microseconds=1))) for c in changes]
    out.append((None, minutes(changes[-1] if changes else start)))
    return out


def _offset_case(column, tz: str, first: date, last: date):
    parts = offsets(tz, first, last)
    if len(parts) == 1:
        return literal(parts[0][1])
    return case(*[(column < until, literal(minutes)) for until, minutes in parts[:-1]], else_=literal(parts[-1][1]))


@lru_cache(maxsize=4096)
def _local_hour(hour_utc: str, tz: str) -> int:
    from hymy.hours import zone

    return parse_ts(hour_utc).astimezone(zone(tz)).hour


class DashboardData:
    """The dashboard's view of one server database. Built once per app by the app factory."""

    def __init__(self, engine: Engine, settings=None, throttle: LoginThrottle | None = None):
        self.engine = engine
        self.settings = settings
        self.session_cookie = getattr(settings, "session_cookie", "hymy_session")
        #: Secure cookies are set when the request is HTTPS (or a proxy says so); this forces them always.
        self.force_https = bool(getattr(settings, "extra", {}).get("force_https", False)) if settings else False
        self.secure_cookies = getattr(settings, "secure_cookies", True)
        self.throttle = throttle or LoginThrottle()

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
        import json

        cfg = json.loads(row.config_json)
        return StoreRef(id=row.id, name=row.name, region=row.region_name, region_id=row.region_id,
                        timezone=row.timezone, scale=int(cfg.get("question", {}).get("scale", 4)),
                        languages=tuple(cfg.get("languages", ("fi",))))

    def stores_for(self, user) -> list[StoreRef]:
        """The stores whose results ``user`` may see (``server.auth.visible_store_ids``; none for technicians)."""
        with self.engine.connect() as conn:
            ids = auth.visible_store_ids(conn, user)
        return self._stores(ids)

    def device_stores_for(self, user) -> list[StoreRef]:
        """The stores whose devices ``user`` may manage (admins; technicians: assigned stores, or all)."""
        if user.role not in ("admin", "technician"):
            return []
        with self.engine.connect() as conn:
            ids = auth.device_store_ids(conn, user)
        return self._stores(ids)

    def regions_for(self, user) -> list[Region]:
        stores = self.stores_for(user)
        seen = {}
        for s in stores:
            if s.region_id and s.region_id not in seen:
                seen[s.region_id] = Region(s.region_id, s.region or s.region_id)
        return sorted(seen.values(), key=lambda r: r.name)

    # ------------------------------------------------------------------ results

    def daily(self, store_ids: list[str], first: date, last: date,
              only: set[date] | None = None) -> dict[str, dict[date, Figure]]:
        """Figures per store per local date, ``first``..``last`` inclusive (or just the dates ``only``);
        days without presses are absent."""
        if not store_ids:
            return {}
        r = t.rollup_hourly
        where = ([r.c.local_date.in_(sorted(d.isoformat() for d in only))] if only is not None else
                 [r.c.local_date >= first.isoformat(), r.c.local_date <= last.isoformat()])
        q = (select(r.c.store_id, r.c.local_date, r.c.scale, r.c.mood, func.sum(r.c.counted), func.sum(r.c.filtered))
             .where(r.c.store_id.in_(store_ids), *where)
             .group_by(r.c.store_id, r.c.local_date, r.c.scale, r.c.mood))
        rows: dict[tuple[str, str], list] = defaultdict(list)
        with self.engine.connect() as conn:
            for sid, day, scale, mood, counted, filtered in conn.execute(q):
                rows[(sid, day)].append((scale, mood, int(counted or 0), int(filtered or 0)))
        out: dict[str, dict[date, Figure]] = defaultdict(dict)
        for (sid, day), rs in rows.items():
            out[sid][date.fromisoformat(day)] = figure_from_rows(rs)
        return out

    def totals(self, store_ids: list[str], first: date, last: date) -> dict[str, Figure]:
        """One Figure per store for the whole period (compare, reasons). Reads the same index-ordered rows
        as :meth:`daily` (no sort in the database) and sums them here, without a Figure per day."""
        if not store_ids:
            return {}
        r = t.rollup_hourly
        q = (select(r.c.store_id, r.c.scale, r.c.mood, func.sum(r.c.counted), func.sum(r.c.filtered))
             .where(r.c.store_id.in_(store_ids), r.c.local_date >= first.isoformat(), r.c.local_date <= last.isoformat())
             .group_by(r.c.store_id, r.c.local_date, r.c.scale, r.c.mood))
        acc: dict[str, dict[tuple[int, int], list[int]]] = defaultdict(dict)
        with self.engine.connect() as conn:
            for sid, scale, mood, counted, filtered in conn.execute(q):
                c = acc[sid].setdefault((scale, mood), [0, 0])
                c[0] += int(counted or 0)
                c[1] += int(filtered or 0)
        return {sid: figure_from_rows([(s, m, c[0], c[1]) for (s, m), c in v.items()]) for sid, v in acc.items()}

    def hourly(self, store_id: str, day: date) -> dict[int, Figure]:
        """Figures per local hour (0-23) of ``day``, each bucket under the hour of its local start: on the
        autumn DST day the repeated hour is summed; Lord Howe's 30-minute "02:30" bucket is hour 2."""
        r = t.rollup_hourly
        tz = self._tz(store_id)
        q = (select(r.c.hour_utc, r.c.scale, r.c.mood, r.c.counted, r.c.filtered)
             .where(r.c.store_id == store_id, r.c.local_date == day.isoformat()))
        rows: dict[int, list] = defaultdict(list)
        with self.engine.connect() as conn:
            for hour_utc, scale, mood, counted, filtered in conn.execute(q):
                rows[_local_hour(hour_utc, tz)].append((scale, mood, counted, filtered))
        return {h: figure_from_rows(rs) for h, rs in rows.items()}

    def weekday_hour(self, store_id: str, first: date, last: date) -> dict[tuple[int, int], Figure]:
        """Figures per (weekday 0=Monday, local hour) over ``first``..``last``, summed in the database.

        The local hour of a bucket is its UTC start plus the zone's offset at that instant; the offsets
        of the period (two per year where DST applies) become one CASE over ``hour_utc``, so the database
        returns at most 7 x 24 x moods rows whatever the period's length.
        """
        r = t.rollup_hourly
        tz = self._tz(store_id)
        offset = _offset_case(r.c.hour_utc, tz, first, last)
        minutes = (cast(func.substr(r.c.hour_utc, 12, 2), Integer) * 60
                   + cast(func.substr(r.c.hour_utc, 15, 2), Integer) + offset + 1440)
        local_hour = (minutes % 1440) // 60
        if self.engine.dialect.name == "postgresql":
            weekday = cast(func.extract("dow", cast(r.c.local_date, Date)), Integer)
        else:
            weekday = cast(func.strftime("%w", r.c.local_date), Integer)
        wd, lh = weekday.label("wd"), cast(local_hour, Integer).label("lh")
        q = (select(wd, lh, r.c.scale, r.c.mood, func.sum(r.c.counted), func.sum(r.c.filtered))
             .where(r.c.store_id == store_id, r.c.local_date >= first.isoformat(), r.c.local_date <= last.isoformat())
             .group_by(wd, lh, r.c.scale, r.c.mood))
        acc: dict[tuple[int, int], list] = defaultdict(list)
        with self.engine.connect() as conn:
            for w, h, scale, mood, counted, filtered in conn.execute(q):
                acc[((int(w) + 6) % 7, int(h))].append((scale, mood, int(counted or 0), int(filtered or 0)))
        return {k: figure_from_rows(v) for k, v in acc.items()}

    def followup_counts(self, store_ids: list[str], first: date, last: date, kind: str) -> list[tuple[str, int]]:
        """``(reason or praise id, count)``, most frequent first, over the stores and local dates."""
        if not store_ids:
            return []
        f = t.rollup_followups
        total = func.sum(f.c.n)
        q = (select(f.c.value, total)
             .where(f.c.store_id.in_(store_ids), f.c.kind == kind, f.c.local_date >= first.isoformat(),
                    f.c.local_date <= last.isoformat())
             .group_by(f.c.value).order_by(total.desc(), f.c.value))
        with self.engine.connect() as conn:
            return [(v, int(n)) for v, n in conn.execute(q)]

    def positive_comments(self, store_ids: list[str], first: date, last: date, limit: int = 60) -> list[dict]:
        """Free comments left after a positive face, newest first: ``{store_id, text, at}``."""
        if not store_ids:
            return []
        fu, rs = t.followups, t.responses
        q = (select(fu.c.store_id, fu.c.value, fu.c.pressed_at)
             .select_from(fu.join(rs, rs.c.id == fu.c.response_id))
             .where(fu.c.store_id.in_(store_ids), fu.c.kind == "comment", fu.c.value.is_not(None),
                    # a UTC window around the local dates lets index followups_dash_kind do the work
                    fu.c.pressed_at >= (first - timedelta(days=1)).isoformat(),
                    fu.c.pressed_at < (last + timedelta(days=2)).isoformat(),
                    fu.c.deleted_at.is_(None), fu.c.local_date >= first.isoformat(),
                    fu.c.local_date <= last.isoformat(), rs.c.mood * 2 > rs.c.scale + 1)
             .order_by(fu.c.pressed_at.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [{"store_id": s, "text": v, "at": parse_ts(p)} for s, v, p in conn.execute(q)]

    def followup_names(self, store_ids: list[str], kind: str, lang: str) -> dict[str, str]:
        """Reason (``kind="reason"``) or praise ids -> text in ``lang`` (Finnish fallback), from the stores'
        configs; the first store naming an id wins. One query, no model validation (fast for 100 stores)."""
        import json

        if not store_ids:
            return {}
        key = "reasons" if kind == "reason" else "praise"
        names: dict[str, str] = {}
        with self.engine.connect() as conn:
            for (cfg_json,) in conn.execute(select(t.stores.c.config_json).where(t.stores.c.id.in_(store_ids))
                                            .order_by(t.stores.c.id)):
                for item in json.loads(cfg_json).get(key, []):
                    texts = item.get("texts", {})
                    names.setdefault(item["id"], texts.get(lang) or texts.get("fi") or item["id"])
        return names

    def _tz(self, store_id: str) -> str:
        with self.engine.connect() as conn:
            tz = conn.execute(select(t.stores.c.timezone).where(t.stores.c.id == store_id)).scalar()
        return tz or "UTC"

    def store_config(self, store_id: str) -> StoreConfig | None:
        from .. import admin

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
        from .. import admin

        days = getattr(self.settings, "enrolment_valid_days", 7)
        new = admin.create_device(self.engine, store_id, name, valid_days=days)
        return new.code, parse_ts(new.expires_at)

    def revoke_device(self, device_id: str) -> None:
        from .. import admin

        admin.revoke_device(self.engine, device_id)

    # ------------------------------------------------------------------ admin

    def save_store_config(self, store_id: str, cfg: StoreConfig) -> None:
        from .. import admin

        admin.update_store_config(self.engine, store_id, cfg)

    def add_store(self, name: str, timezone: str, region_id: str | None) -> str:
        from .. import admin

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
        idle = getattr(self.settings, "session_idle_s", auth.users.SESSION_IDLE_S)
        return auth.user_for_session(self.engine, session_id, idle_s=idle)

    def end_session(self, session_id: str) -> None:
        auth.delete_session(self.engine, session_id)

    def change_password(self, user, new_password: str, keep_session: str | None = None) -> str:
        """Set the password (every session of the user ends) and return a fresh session for this browser."""
        auth.set_password(self.engine, user.id, new_password)
        return auth.create_session(self.engine, user)

    def set_user_lang(self, user, lang: str) -> None:
        """The language is remembered in a cookie; the server's user table has no column for it."""
