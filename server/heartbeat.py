"""Heartbeats: the device's fleet state, and server-side correction of unsynced press times.

When a heartbeat says the device clock is synced, every stored response and follow-up of the same boot
that was made before the sync (``clock_synced`` false, not corrected yet on the device or here) gets
``pressed_at = device_time - (uptime_now - uptime_press)``. The original stays in
``original_pressed_at``; the press's count (and a reason's or praise's) moves to its new local hour in
the rollups. Follow-ups stored before migration 0004 have no clock fields and stay as they are.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine, select, update

from hymy.protocol import Heartbeat
from hymy.timestamps import format_ts, utcnow

from . import tables as t
from .db import raw_writing, retrying, together, writing
from .ingest import EARLIEST, LATEST, MAX_UPTIME_MS
from .localtime import bucket
from .rollups import bump_hourly

_INT32 = 2**31 - 1  # counts above this are stored as this (a device never has that many)
log = logging.getLogger(__name__)


def corrected_time(hb: Heartbeat, uptime_press_ms: int):
    """The press time implied by a synced heartbeat: ``device_time - (uptime_now - uptime_press)``."""
    return hb.device_time - timedelta(milliseconds=hb.uptime_ms - uptime_press_ms)


def record_heartbeat(engine: Engine, device_id: str, store_id: str, tz: str, hb: Heartbeat,
                     store_recoveries: int | None = None) -> int:
    """Store the fleet state and correct this boot's unsynced presses; returns how many were corrected.

    ``store_recoveries``: the device's count before this heartbeat when the caller has read the device
    row already (the device API's token check does); None: read here.

    Every device sends one a minute, so the common case (nothing to correct) is one transaction straight
    on the driver (``server.db.raw_writing``: the UPDATE and one indexed look for presses to correct,
    about a tenth of the CPU of the same through SQLAlchemy); only when there are presses to correct does
    a second transaction correct them (it repeats the UPDATE, which changes nothing the second time)."""
    got = record_heartbeats(engine, [(device_id, store_id, tz, hb, store_recoveries)])[0]
    if isinstance(got, Exception):
        raise got
    return got


#: One heartbeat for :func:`record_heartbeats`: ``(device_id, store_id, tz, heartbeat, store_recoveries)``.
Beat = tuple[str, str, str, Heartbeat, int | None]


def record_heartbeats(engine: Engine, beats: Sequence[Beat]) -> list[int | Exception]:
    """:func:`record_heartbeat` of several devices: their fleet states in one transaction (in device order),
    then the corrections each needs in its own; per heartbeat the presses corrected, or its exception.
    Should the shared transaction fail for good, each is recorded alone."""
    more = together(list(beats), lambda b: b[0], lambda todo: _fleet_states(engine, todo))
    out: list[int | Exception] = []
    for (device_id, store_id, tz, hb, _), needed in zip(beats, more, strict=True):
        if isinstance(needed, Exception):
            out.append(needed)
            continue
        try:
            out.append(retrying(lambda d=device_id, s=store_id, z=tz, h=hb: _record(engine, d, s, z, h)) if needed else 0)
        except Exception as exc:
            out.append(exc)
    return out


def _synced(hb: Heartbeat) -> bool:
    """Can this heartbeat correct presses (a synced clock, an uptime and a time the server stores)?"""
    return hb.clock_synced and hb.uptime_ms <= MAX_UPTIME_MS and EARLIEST <= hb.device_time < LATEST


def _state(hb: Heartbeat, now: str) -> dict:
    """The ``devices`` columns a heartbeat sets."""
    in_range = EARLIEST <= hb.device_time < LATEST  # a clock in year 1 or 9999 may not even exist in UTC
    return dict(last_seen_at=now, app_version=hb.app_version, boot_id=hb.boot_id,
                uptime_ms=min(hb.uptime_ms, MAX_UPTIME_MS), device_time=format_ts(hb.device_time) if in_range else None,
                clock_synced=hb.clock_synced, pending=min(hb.pending, _INT32), oldest_pending_s=hb.oldest_pending_s,
                quarantined=min(hb.quarantined, _INT32), last_error=hb.last_error, disk_free_mb=hb.disk_free_mb,
                cpu_temp_c=hb.cpu_temp_c, config_etag=hb.config_etag, store_recoveries=min(hb.store_recoveries, _INT32))


_STATE = ("last_seen_at", "app_version", "boot_id", "uptime_ms", "device_time", "clock_synced", "pending",
          "oldest_pending_s", "quarantined", "last_error", "disk_free_mb", "cpu_temp_c", "config_etag",
          "store_recoveries")
_UPDATE = f"UPDATE devices SET {', '.join(f'{c} = ?' for c in _STATE)} WHERE id = ?"
#: Is anything of this boot left to correct (what ``_record`` would correct, without the time range)?
_TO_CORRECT = " UNION ALL ".join(
    f"SELECT 1 FROM (SELECT 1 FROM {table} WHERE device_id = ? AND boot_id = ? AND NOT clock_synced AND "
    f"NOT clock_corrected AND server_corrected_at IS NULL AND uptime_ms <= ? LIMIT 1) AS {table[0]}"
    for table in ("responses", "followups"))


def _fleet_states(engine, beats: list[Beat]) -> list[bool]:
    """Store the fleet state of each heartbeat (one transaction on the driver); per heartbeat, True when
    its boot has presses to correct."""
    with raw_writing(engine) as (cur, dialect):
        sql = (lambda q: q.replace("?", "%s")) if dialect == "postgresql" else (lambda q: q)
        return [_fleet_state(cur, sql, device_id, hb, before) for device_id, _, _, hb, before in beats]


def _fleet_state(cur, sql, device_id, hb: Heartbeat, before: int | None) -> bool:
    if before is None:
        cur.execute(sql("SELECT store_recoveries FROM devices WHERE id = ?"), (device_id,))
        row = cur.fetchone()
        before = row[0] if row else None
    _warn_recoveries(device_id, hb, before)
    state = _state(hb, format_ts(utcnow()))
    cur.execute(sql(_UPDATE), (*(state[c] for c in _STATE), device_id))
    if not _synced(hb):
        return False
    key = (device_id, hb.boot_id, hb.uptime_ms)
    cur.execute(sql(_TO_CORRECT), key * 2)
    return cur.fetchone() is not None


def _warn_recoveries(device_id: str, hb: Heartbeat, before: int | None) -> None:
    if hb.store_recoveries > (before or 0):
        log.warning("device %s moved a damaged local store aside (%d kept on the device); its readable "
                    "presses are salvaged and delivered; see `hymy status` on the device",
                    device_id, hb.store_recoveries)


def _record(engine, device_id, store_id, tz, hb: Heartbeat) -> int:
    now = format_ts(utcnow())
    with writing(engine) as conn:
        conn.execute(update(t.devices).where(t.devices.c.id == device_id).values(**_state(hb, now)))
        if not _synced(hb):
            return 0
        counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        fcounts: dict[tuple, int] = defaultdict(int)
        done = 0
        for table in (t.responses, t.followups):
            c = table.c
            for row in conn.execute(select(table).where(
                c.device_id == device_id, c.boot_id == hb.boot_id, c.clock_synced.is_(False),
                c.clock_corrected.is_(False), c.server_corrected_at.is_(None), c.uptime_ms <= hb.uptime_ms,
            ).order_by(c.id)).all():
                at = corrected_time(hb, row.uptime_ms)
                if not EARLIEST <= at < LATEST:
                    continue
                done += 1
                day, hour = bucket(at, tz)
                conn.execute(update(table).where(c.id == row.id).values(
                    pressed_at=format_ts(at), original_pressed_at=row.pressed_at, server_corrected_at=now,
                    local_date=day, hour_utc=hour))
                if table is t.responses:  # the press's count moves to its new hour
                    slot = 0 if (not row.flags and not row.voided) else 1
                    counts[(row.local_date, row.hour_utc, row.scale, row.mood)][slot] -= 1
                    counts[(day, hour, row.scale, row.mood)][slot] += 1
                elif row.kind in ("reason", "praise"):  # and so does a reason or praise chosen after it
                    fcounts[(row.local_date, row.hour_utc, row.kind, row.value)] -= 1
                    fcounts[(day, hour, row.kind, row.value)] += 1
        bump_hourly(conn, store_id, counts, fcounts)
        return done
