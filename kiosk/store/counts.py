"""What the kiosk itself reads back from its store: today's counts (the thank-you line, the maintenance
screen), the last counted press (the response interval after a restart) and the recent presses and
voids the local staff alert evaluates (``kiosk.staffalert``).

"Today" is the store's local day in its IANA time zone (docs/time.md); a response voided by a ``void``
follow-up (the technician's maintenance gesture) is kept but counted as filtered.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hymy.hours import zone
from hymy.protocol import FollowupKind
from hymy.timestamps import format_ts, utcnow
from kiosk.store.file import StoreFile


class Counts(StoreFile):
    """The store file's read-backs for the kiosk (see ``StoreFile`` for opening, damage and meta)."""

    def last_counted_response(self) -> dict | None:
        """The newest response without flags (for the response interval after a restart)."""
        row = self._read(
            "SELECT body FROM events WHERE type = 'response' AND flags = '' ORDER BY seq DESC LIMIT 1"
        )
        return json.loads(row[0][0]) if row else None

    def counts_between(self, start: datetime, end: datetime) -> tuple[dict[int, int], int, int]:
        """Counted presses per mood, the filtered count and the scale, for ``start <= pressed_at < end``.

        A response voided by a ``void`` follow-up (maintenance gesture) counts as filtered.
        """
        rows = self._read(
            """
            SELECT e.mood, e.scale, e.flags != '' OR EXISTS (
                       SELECT 1 FROM events v WHERE v.type = 'followup' AND v.kind = 'void' AND v.response_id = e.id
                   ) AS filtered, count(*)
            FROM events e
            WHERE e.type = 'response' AND e.pressed_at >= ? AND e.pressed_at < ?
            GROUP BY e.mood, e.scale, filtered
            """,
            (format_ts(start), format_ts(end)),
        )
        counts: dict[int, int] = {}
        filtered = 0
        scale = 4
        for mood, sc, is_filtered, n in rows:
            if is_filtered:
                filtered += n
            else:
                counts[mood] = counts.get(mood, 0) + n
                scale = sc
        return counts, filtered, scale

    def today_counts(self, tz: str, now: datetime | None = None) -> tuple[dict[int, int], int, int]:
        """``counts_between`` for the local day of ``now`` in the store's IANA time zone ``tz``."""
        tzinfo = zone(tz)
        local = (now or utcnow()).astimezone(tzinfo)
        start = datetime.combine(local.date(), datetime.min.time(), tzinfo)
        end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo)
        return self.counts_between(start.astimezone(UTC), end.astimezone(UTC))

    def recent_responses(self, since: datetime) -> list[dict]:
        """Payloads of responses pressed at or after ``since`` (local staff-alert evaluation)."""
        rows = self._read(
            "SELECT body FROM events WHERE type = 'response' AND pressed_at >= ? ORDER BY pressed_at",
            (format_ts(since),),
        )
        return [json.loads(r[0]) for r in rows]

    def voided_since(self, since: datetime) -> set[str]:
        """Ids of responses voided by a ``void`` follow-up recorded at or after ``since``.

        A void always comes after its press, so voids since a window's start cover every press in it.
        One indexed query on the events' ``kind`` column.
        """
        rows = self._read(
            "SELECT response_id FROM events WHERE type = 'followup' AND kind = ? AND pressed_at >= ?",
            (FollowupKind.void.value, format_ts(since)),
        )
        return {r[0] for r in rows}
