"""The Python admin API: regions, stores, devices and enrolment codes, alert rules, comments, pruning.

The ``hymy admin`` commands, the demo and the tests call these. Each function takes an Engine and runs
one short transaction. Users, sessions and API tokens are in :mod:`server.auth`.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, and_, delete, func, insert, not_, or_, select, update

from hymy.errors import CodeExpired, CodeUsed, ConfigError, DeviceRevoked, NotFound, UnknownCode
from hymy.protocol import AlertRule, StoreConfig, default_store_config
from hymy.timestamps import format_ts, parse_ts, utcnow

from . import rollups, storeconfig
from . import tables as t
from .db import writing
from .tokens import hash_secret, new_code, new_token, normalise_code


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return slug or "x"


def _unique_id(conn, table, name: str) -> str:
    base = _slug(name)
    candidate = base
    while conn.execute(select(table.c.id).where(table.c.id == candidate)).first():
        candidate = f"{base}-{secrets.token_hex(2)}"
    return candidate


# --------------------------------------------------------------------------- regions and stores


def create_region(engine: Engine, name: str, region_id: str | None = None) -> str:
    """Add a region; returns its id (a slug of the name unless ``region_id`` is given)."""
    with writing(engine) as conn:
        rid = region_id or _unique_id(conn, t.regions, name)
        conn.execute(insert(t.regions).values(id=rid, name=name, created_at=format_ts(utcnow())))
    return rid


def create_store(
    engine: Engine,
    name: str,
    *,
    timezone: str = "Europe/Helsinki",
    region_id: str | None = None,
    store_id: str | None = None,
    config: StoreConfig | dict | None = None,
) -> str:
    """Add a store; returns its id. ``config`` (a StoreConfig or its dict) defaults to the demo question."""
    with writing(engine) as conn:
        if region_id is not None and not conn.execute(select(t.regions.c.id).where(t.regions.c.id == region_id)).first():
            raise NotFound(f"region {region_id!r} does not exist; add it first (hymy admin add-region)")
        sid = store_id or _unique_id(conn, t.stores, name)
        cfg = _make_config(sid, name, timezone, config)
        conn.execute(insert(t.stores).values(
            id=sid, region_id=region_id, name=name, timezone=cfg.timezone,
            config_json=_config_json(cfg), created_at=format_ts(utcnow()),
        ))
        for rule in cfg.alert_rules:
            conn.execute(insert(t.alert_rules).values(
                id=f"{sid}:{rule.id}", store_id=sid, rule_json=rule.model_dump_json()))
    return sid


def move_store(engine: Engine, store_id: str, region_id: str | None) -> str | None:
    """Put the store in ``region_id`` (None: in no region); returns the region it was in. The region
    rollups of both regions are rebuilt in the same transaction (see :mod:`server.rollups`)."""
    with writing(engine) as conn:
        _need_store(conn, store_id)
        if region_id is not None and not conn.execute(select(t.regions.c.id).where(t.regions.c.id == region_id)).first():
            raise NotFound(f"region {region_id!r} does not exist; add it first (hymy admin add-region)")
        return rollups.move_store(conn, store_id, region_id)


def _make_config(sid: str, name: str, timezone: str, config) -> StoreConfig:
    """A valid StoreConfig: ``config`` (StoreConfig, or a dict laid over the default) with id and name set."""
    if isinstance(config, StoreConfig):
        base = config.model_dump(mode="json")
    else:
        base = default_store_config().model_dump(mode="json")
        base["timezone"] = timezone
        base.update(dict(config or {}))
    base.update(store_id=sid, store_name=name)
    try:
        return StoreConfig.model_validate(base)
    except Exception as exc:  # pydantic ValidationError: name every field
        raise ConfigError(str(exc)) from None


def _config_json(cfg: StoreConfig) -> str:
    data = cfg.model_dump(mode="json")
    data.pop("alert_rules", None)
    return json.dumps(data, sort_keys=True)


def update_store_config(engine: Engine, store_id: str, config: StoreConfig | dict) -> StoreConfig:
    """Replace what a store asks (question, reasons, hours...). ``store_id``/name stay as stored.

    ``alert_rules`` in ``config``, when present, replace the store's rules. The time zone may change
    only while the store has no responses (rollups are keyed by local date).
    """
    with writing(engine) as conn:
        row = conn.execute(select(t.stores).where(t.stores.c.id == store_id)).first()
        if row is None:
            raise NotFound(f"store {store_id!r} does not exist")
        data = config.model_dump(mode="json") if isinstance(config, StoreConfig) else dict(config)
        data["store_id"] = store_id
        data.setdefault("store_name", row.name)
        try:
            cfg = StoreConfig.model_validate(data)
        except Exception as exc:
            raise ConfigError(str(exc)) from None
        if cfg.timezone != row.timezone and conn.execute(
                select(t.responses.c.id).where(t.responses.c.store_id == store_id).limit(1)).first():
            raise ConfigError(f"timezone: store {store_id!r} already has responses in {row.timezone}; "
                              "its time zone cannot change")
        conn.execute(update(t.stores).where(t.stores.c.id == store_id).values(
            name=cfg.store_name, timezone=cfg.timezone, config_json=_config_json(cfg)))
        if "alert_rules" in data:
            conn.execute(delete(t.alert_rules).where(t.alert_rules.c.store_id == store_id))
            for rule in cfg.alert_rules:
                conn.execute(insert(t.alert_rules).values(
                    id=f"{store_id}:{rule.id}", store_id=store_id, rule_json=rule.model_dump_json()))
    return store_config(engine, store_id)


def set_opening_hours(engine: Engine, store_id: str, hours) -> StoreConfig:
    """Replace only the store's opening hours (``hymy.hours``: weekday -> intervals; ``{}``: open around
    the clock); everything else it asks stays. Returns the new config."""
    usual = store_config(engine, store_id)
    return update_store_config(engine, store_id, usual.model_copy(update={"opening_hours": hours}))


def set_alert_rules(engine: Engine, store_id: str, rules: list[AlertRule]) -> None:
    """Replace the store's alert rules (they reach kiosks in StoreConfig.alert_rules)."""
    with writing(engine) as conn:
        _need_store(conn, store_id)
        conn.execute(delete(t.alert_rules).where(t.alert_rules.c.store_id == store_id))
        for rule in rules:
            conn.execute(insert(t.alert_rules).values(
                id=f"{store_id}:{rule.id}", store_id=store_id, rule_json=rule.model_dump_json()))


def store_config(engine_or_conn, store_id: str) -> StoreConfig:
    """The store's StoreConfig with its alert rules (what ``GET /api/v1/config`` sends)."""
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            return store_config(conn, store_id)
    got = storeconfig.texts_in(engine_or_conn, store_id)
    if got is None:
        raise NotFound(f"store {store_id!r} does not exist")
    return storeconfig.fresh(*got)


def _need_store(conn, store_id: str):
    row = conn.execute(select(t.stores).where(t.stores.c.id == store_id)).first()
    if row is None:
        raise NotFound(f"store {store_id!r} does not exist; see `hymy admin list`")
    return row


# --------------------------------------------------------------------------- devices and enrolment


@dataclass(frozen=True)
class NewDevice:
    device_id: str
    code: str  #: one-time enrolment code; shown once
    expires_at: str


def create_device(engine: Engine, store_id: str, name: str | None = None, valid_days: int = 7) -> NewDevice:
    """Register a device for ``store_id`` and make its one-time enrolment code (valid ``valid_days``)."""
    now = utcnow()
    with writing(engine) as conn:
        _need_store(conn, store_id)
        device_id = "dev-" + secrets.token_hex(6)
        conn.execute(insert(t.devices).values(id=device_id, store_id=store_id, name=name, created_at=format_ts(now)))
        code, expires = _add_code(conn, device_id, now, valid_days)
    return NewDevice(device_id, code, expires)


def new_enrolment_code(engine: Engine, device_id: str, valid_days: int = 7) -> NewDevice:
    """A fresh code for an existing device (e.g. after a re-flash); earlier unused codes stop working.

    A revoked device gets none (DeviceRevoked, nothing written): revocation is for good, and its code
    could never enrol. A replacement is a new device (:func:`create_device`).
    """
    now = utcnow()
    with writing(engine) as conn:
        row = conn.execute(select(t.devices.c.store_id, t.devices.c.revoked_at)
                           .where(t.devices.c.id == device_id)).first()
        if row is None:
            raise NotFound(f"device {device_id!r} does not exist; see `hymy admin list`")
        if row.revoked_at is not None:
            raise DeviceRevoked(f"device {device_id}: revoked at {row.revoked_at}, so it can never enrol again; "
                                 f"add a new device instead (hymy admin add-device --store {row.store_id})")
        conn.execute(delete(t.enrolment_codes).where(t.enrolment_codes.c.device_id == device_id,
                                                     t.enrolment_codes.c.used_at.is_(None)))
        code, expires = _add_code(conn, device_id, now, valid_days)
    return NewDevice(device_id, code, expires)


def _add_code(conn, device_id, now, valid_days):
    code = new_code()
    expires = format_ts(now + timedelta(days=valid_days))
    conn.execute(insert(t.enrolment_codes).values(
        code_hash=hash_secret(normalise_code(code)), device_id=device_id,
        created_at=format_ts(now), expires_at=expires))
    return code, expires


def enroll(engine: Engine, code: str, device_name: str | None = None, app_version: str | None = None):
    """Use a one-time code: returns ``(device_id, token, StoreConfig)``; the token is shown only now.

    Raises an ``EnrolmentError`` of the kind that went wrong (``hymy.errors``: UnknownCode, CodeUsed,
    CodeExpired, DeviceRevoked). Enrolling again replaces an earlier token (the old one gets 401 at once).
    """
    now = utcnow()
    with writing(engine) as conn:
        row = conn.execute(select(t.enrolment_codes).where(
            t.enrolment_codes.c.code_hash == hash_secret(normalise_code(code)))).first()
        if row is None:
            raise UnknownCode("code: unknown enrolment code; ask for a new one (hymy admin add-device)")
        if row.used_at is not None:
            raise CodeUsed("code: this enrolment code was already used; ask for a new one")
        if parse_ts(row.expires_at) <= now:
            raise CodeExpired(f"code: this enrolment code expired at {row.expires_at}; ask for a new one")
        done = conn.execute(update(t.enrolment_codes).where(
            t.enrolment_codes.c.code_hash == row.code_hash, t.enrolment_codes.c.used_at.is_(None)
        ).values(used_at=format_ts(now)))
        if done.rowcount != 1:
            raise CodeUsed("code: this enrolment code was already used; ask for a new one")
        dev = conn.execute(select(t.devices).where(t.devices.c.id == row.device_id)).first()
        if dev.revoked_at is not None:
            raise DeviceRevoked(f"code: device {dev.id} is revoked; add a new device")
        token = new_token()
        values = {"token_hash": hash_secret(token), "enrolled_at": format_ts(now)}
        if device_name and not dev.name:
            values["name"] = device_name
        if app_version:
            values["app_version"] = app_version
        conn.execute(update(t.devices).where(t.devices.c.id == dev.id).values(**values))
        cfg = store_config(conn, dev.store_id)
    return dev.id, token, cfg


def revoke_device(engine: Engine, device_id: str) -> None:
    """Revoke a device: its token gets 401 at once and its unused codes stop working."""
    with writing(engine) as conn:
        done = conn.execute(update(t.devices).where(t.devices.c.id == device_id).values(
            revoked_at=format_ts(utcnow()), token_hash=None))
        if done.rowcount != 1:
            raise NotFound(f"device {device_id!r} does not exist; see `hymy admin list`")
        conn.execute(delete(t.enrolment_codes).where(t.enrolment_codes.c.device_id == device_id,
                                                     t.enrolment_codes.c.used_at.is_(None)))


def device_for_token(conn, token: str):
    """The (not revoked) device row whose token this is, or None."""
    return conn.execute(select(t.devices).where(
        t.devices.c.token_hash == hash_secret(token), t.devices.c.revoked_at.is_(None))).first()


# --------------------------------------------------------------------------- listing, comments, pruning


def listing(engine: Engine) -> dict:
    """Regions, stores, devices and users as plain dicts (``hymy admin list``)."""
    with engine.connect() as conn:
        out = {
            "regions": [dict(r._mapping) for r in conn.execute(select(t.regions).order_by(t.regions.c.id))],
            "stores": [dict(r._mapping) for r in conn.execute(
                select(t.stores.c.id, t.stores.c.name, t.stores.c.region_id, t.stores.c.timezone)
                .order_by(t.stores.c.id))],
            "devices": [dict(r._mapping) for r in conn.execute(
                select(t.devices.c.id, t.devices.c.store_id, t.devices.c.name, t.devices.c.enrolled_at,
                       t.devices.c.revoked_at, t.devices.c.last_seen_at).order_by(t.devices.c.id))],
            "users": [dict(r._mapping) for r in conn.execute(
                select(t.users.c.id, t.users.c.username, t.users.c.role).order_by(t.users.c.id))],
        }
    return out


def delete_comment(engine: Engine, followup_id: str) -> bool:
    """Erase the text of a comment follow-up (the event stays, its value becomes NULL). True if found."""
    with writing(engine) as conn:
        done = conn.execute(update(t.followups).where(
            t.followups.c.id == followup_id, t.followups.c.kind == "comment"
        ).values(value=None, deleted_at=format_ts(utcnow())))
    return done.rowcount == 1


def prune(engine: Engine, older_than_days: int) -> dict[str, int]:
    """Delete raw responses and follow-ups pressed more than ``older_than_days`` days ago; rollups stay.

    Kept whatever their time: events recorded before their device's clock synced and not corrected
    yet while a synced heartbeat of their boot can still correct them (their device is not revoked and
    its last heartbeat, if any, came from the same boot). A deleted event's id stays in ``event_ids``, so
    a device re-sending it gets ``duplicate`` and it is never counted twice. Returns the counts deleted.
    """
    if older_than_days <= 0:
        raise ConfigError(f"older_than_days: {older_than_days} must be at least 1")
    cutoff = format_ts(utcnow() - timedelta(days=older_than_days))
    d = t.devices.c
    out: dict[str, int] = {}
    with writing(engine) as conn:
        for table in (t.followups, t.responses):
            c = table.c
            correctable = select(d.id).where(d.id == c.device_id, d.revoked_at.is_(None),
                                             or_(d.boot_id.is_(None), d.boot_id == c.boot_id)).exists()
            awaiting = and_(c.clock_synced.is_(False), c.clock_corrected.is_(False), c.server_corrected_at.is_(None),
                            correctable)
            out[table.name] = conn.execute(delete(table).where(c.pressed_at < cutoff, not_(awaiting))).rowcount
    return {"responses": out["responses"], "followups": out["followups"]}


def count_rows(engine: Engine, table_name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.metadata.tables[table_name])).scalar_one()
