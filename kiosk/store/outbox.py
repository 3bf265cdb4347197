"""The outbox: the queue the kiosk appends presses to and the sync agent drains.

Each event is one row, written once (``INSERT ... ON CONFLICT (id) DO NOTHING``: a replay is harmless),
with an order number that is never reused (the agent's ``after_seq`` cursor cannot skip a new event
after old ones were pruned). The agent reads the unsent events, marks sent what the server named
accepted or duplicate, quarantines what it refused (never deleted), corrects the time of presses
recorded before the clock synced, and polls ``meta.sync_requested_at`` (``request_sync``).

The sync agent opens the store as an ``Outbox``: this API (with the file's ``meta``) is all it uses of
the kiosk's store; the kiosk's own ``kiosk.store.Store`` adds today's counts (``kiosk.store.counts``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from hymy.protocol import Followup, FollowupKind, Response
from hymy.timestamps import format_ts, parse_ts, utcnow
from kiosk.store.file import StoreFile

#: The meta key the sync agent polls: set by :meth:`Outbox.request_sync`.
SYNC_REQUESTED = "sync_requested_at"
#: Rows deleted per transaction when pruning (a few milliseconds of the write lock each; SQLite
#: allows 32,766 parameters per statement).
PRUNE_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as kept in the outbox: its order number, id, type and protocol JSON."""

    seq: int
    id: str
    type: str
    body: str

    def payload(self) -> dict:
        return json.loads(self.body)


class Outbox(StoreFile):
    """The store file's queue of presses and follow-ups (see ``StoreFile`` for opening, damage and meta)."""

    def append(self, event: Response | Followup) -> int:
        """Commit one event durably; return its order number. Raises StoreUnavailable on a full disk.

        Appending an id that is already stored is a no-op returning the stored number.
        """
        return self.append_many([event])[0]

    def append_many(self, events: Iterable[Response | Followup]) -> list[int]:
        """Commit several events in one transaction (simulator, replays); same rules as ``append``."""
        now = format_ts(utcnow())
        rows = [_row(e, now) for e in events]
        seqs: list[int] = []
        with self._write() as conn:
            for row in rows:
                cur = conn.execute(
                    "INSERT INTO events (id, type, body, response_id, kind, mood, scale, flags, pressed_at,"
                    " boot_id, uptime_ms, clock_synced, stored_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (id) DO NOTHING",
                    row,
                )
                if cur.rowcount:
                    seqs.append(cur.lastrowid)
                else:
                    seqs.append(conn.execute("SELECT seq FROM events WHERE id = ?", (row[0],)).fetchone()[0])
        return seqs

    def unsent(self, limit: int = 500, after_seq: int = 0) -> list[StoredEvent]:
        """The oldest unsent events in recording order (at most ``limit``, with seq > ``after_seq``)."""
        rows = self._read(
            "SELECT seq, id, type, body FROM events WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [StoredEvent(*r) for r in rows]

    def mark_sent(self, ids: Iterable[str]) -> int:
        """Mark events delivered (the server answered accepted or duplicate); return how many changed."""
        ids = list(ids)
        if not ids:
            return 0
        now = format_ts(utcnow())
        with self._write() as conn:
            changed = 0
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                changed += conn.execute(
                    f"UPDATE events SET sent_at = ? WHERE sent_at IS NULL AND id IN ({marks})", (now, *chunk)
                ).rowcount
        return changed

    def quarantine(self, id: str, reason: str) -> bool:
        """Move an unsent event the server rejected into quarantine with the reason (never deleted)."""
        now = format_ts(utcnow())
        with self._write() as conn:
            row = conn.execute("SELECT seq, id, type, body FROM events WHERE id = ? AND sent_at IS NULL", (id,)).fetchone()
            if row is None:
                return False
            self._insert_quarantined(conn, *row, reason[:500], now)
            conn.execute("DELETE FROM events WHERE id = ?", (id,))
        return True

    def quarantined(self) -> list[dict]:
        rows = self._read("SELECT id, type, reason, quarantined_at FROM quarantine ORDER BY seq")
        return [dict(zip(("id", "type", "reason", "quarantined_at"), r, strict=True)) for r in rows]

    def pending_count(self) -> int:
        return self._read("SELECT count(*) FROM events WHERE sent_at IS NULL")[0][0]

    def oldest_pending_age(self, now: datetime | None = None) -> float | None:
        """Seconds since the oldest unsent event was stored, or None when nothing is pending."""
        row = self._read("SELECT stored_at FROM events WHERE sent_at IS NULL ORDER BY seq LIMIT 1")
        if not row:
            return None
        return max(0.0, ((now or utcnow()) - parse_ts(row[0][0])).total_seconds())

    def quarantined_count(self) -> int:
        return self._read("SELECT count(*) FROM quarantine")[0][0]

    def max_seq(self) -> int:
        return self._read("SELECT coalesce(max(seq), 0) FROM events")[0][0]

    def get(self, id: str) -> dict | None:
        """An event's protocol payload by id (from the outbox or quarantine), or None."""
        row = self._read("SELECT body FROM events WHERE id = ? UNION ALL SELECT body FROM quarantine WHERE id = ?", (id, id))
        return json.loads(row[0][0]) if row else None

    def all_ids(self) -> list[str]:
        """Every stored event id in recording order (tests and audits)."""
        return [r[0] for r in self._read("SELECT id FROM events ORDER BY seq")]

    def request_sync(self, at: str | None = None) -> None:
        """Ask the sync agent to sync now: it polls ``meta.sync_requested_at`` (the maintenance screen's
        button and the buttons' 15 s hold both end here); never waits for the agent."""
        self.set_meta(SYNC_REQUESTED, at or format_ts(utcnow()))

    def correct_clock(self, boot_id: str, synced_now: datetime, uptime_now_ms: int) -> int:
        """Correct unsent events of boot ``boot_id`` recorded before the clock synced.

        ``corrected = synced_now - (uptime_now - uptime_press)``; the device's original wall clock is
        kept in ``device_pressed_at`` and ``clock_corrected`` marks the change. Already sent events are
        corrected by the server from the heartbeat instead. Returns how many were corrected.
        """
        changed = 0
        with self._write() as conn:
            rows = conn.execute(
                "SELECT seq, body, stored_at FROM events WHERE clock_synced = 0 AND boot_id = ? AND sent_at IS NULL",
                (boot_id,),
            ).fetchall()
            for seq, body, stored_at in rows:
                data = json.loads(body)
                if data.get("clock_corrected") or data.get("uptime_ms") is None:
                    continue
                delta_ms = uptime_now_ms - int(data["uptime_ms"])
                corrected_dt = synced_now - timedelta(milliseconds=delta_ms)
                corrected = format_ts(corrected_dt)
                # stored_at came from the same wrong clock: shift it alike, so the oldest pending age
                # (status, heartbeat) is not "56 years" for a press stored before NTP synced
                shift = corrected_dt - parse_ts(data["pressed_at"])
                stored = format_ts(parse_ts(stored_at) + shift)
                data["device_pressed_at"] = data["pressed_at"]
                data["pressed_at"] = corrected
                data["clock_corrected"] = True
                conn.execute(
                    "UPDATE events SET body = ?, pressed_at = ?, stored_at = ?, clock_synced = 1 WHERE seq = ?",
                    (json.dumps(data, separators=(",", ":")), corrected, stored, seq),
                )
                changed += 1
        return changed

    def prune(self, days: int, now: datetime | None = None, *, chunk: int = PRUNE_CHUNK) -> int:
        """Delete sent events sent more than ``days`` days ago; unsent events are never pruned. Returns
        how many were deleted. The old events are looked up without the write lock (a WAL reader never
        blocks the kiosk), then deleted by order number, ``chunk`` per transaction (default
        ``PRUNE_CHUNK``), so the kiosk's next press never waits behind a long delete."""
        cutoff = format_ts((now or utcnow()) - timedelta(days=days))
        deleted = 0
        while True:
            seqs = [r[0] for r in self._read(
                "SELECT seq FROM events WHERE sent_at IS NOT NULL AND sent_at < ? ORDER BY seq LIMIT ?", (cutoff, chunk))]
            if not seqs:
                return deleted
            with self._write() as conn:
                deleted += conn.execute(
                    f"DELETE FROM events WHERE seq IN ({','.join('?' * len(seqs))}) AND sent_at IS NOT NULL"
                    " AND sent_at < ?", (*seqs, cutoff)).rowcount
            if len(seqs) < chunk:
                return deleted


def _row(event: Response | Followup, stored_at: str) -> tuple:
    body = event.model_dump_json(exclude_defaults=False)
    if isinstance(event, Response):
        return (event.id, "response", body, None, None, event.mood, event.scale, ",".join(event.flags),
                format_ts(event.pressed_at), event.boot_id, event.uptime_ms, int(event.clock_synced), stored_at)
    kind = event.kind.value if isinstance(event.kind, FollowupKind) else str(event.kind)
    return (event.id, "followup", body, event.response_id, kind, None, None, "", format_ts(event.pressed_at),
            event.boot_id, event.uptime_ms, int(event.clock_synced), stored_at)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
