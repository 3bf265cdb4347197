"""What makes a resent event the same event: its content, compared column by column with the stored
row and independent of clock corrections, and the reasons given when an id is already taken.

Shared by validation (:mod:`server.ingest`) and the write transaction (:mod:`server.ingest_tx`).
"""

from __future__ import annotations

import hashlib

from hymy.protocol import Followup, Response

from . import tables as t

CONFLICT = "conflict: this id is already stored with different content"
#: A response's id sent as a follow-up's, or the reverse (``ID_TAKEN.format(kind="response")``).
ID_TAKEN = "id: this id is already used by a {kind}; every event needs an id of its own"


#: The event fields that are not its content: the device's own clock correction (``pressed_at`` stands
#: for ``device_pressed_at or pressed_at``). Every other field is compared (a test checks that
#: :func:`content_key` covers every other field of both models).
CORRECTION_FIELDS = ("clock_corrected", "device_pressed_at")


def content_key(ev: Response | Followup, at: str, device_at: str | None) -> tuple:
    """The event's content, independent of clock corrections (``at``/``device_at``: its stored texts)."""
    if type(ev) is Response:
        return ("response", ev.id, ev.question_id, ev.mood, ev.scale, ev.source.value, device_at or at,
                ev.clock_synced, ev.boot_id, ev.uptime_ms, ",".join(sorted(f.value for f in ev.flags)),
                ev.app_version)
    return ("followup", ev.id, ev.response_id, ev.kind.value, ev.value, device_at or at, ev.clock_synced,
            ev.boot_id, ev.uptime_ms)


def stored_key(table, row) -> tuple:
    """:func:`content_key` of a stored row: the time as the device first had it (before its own or the
    server's correction); a deleted comment's text counts as whatever is sent again."""
    when = row.device_pressed_at or row.original_pressed_at or row.pressed_at
    if table is t.responses:
        return ("response", row.id, row.question_id, row.mood, row.scale, row.source, when, bool(row.clock_synced),
                row.boot_id, row.uptime_ms, row.flags, row.app_version)
    return ("followup", row.id, row.response_id, row.kind, row.value, when, bool(row.clock_synced), row.boot_id,
            row.uptime_ms)


def legacy_content_hash(event: Response | Followup) -> str:
    """SHA-256 of the normalised model's JSON: rows stored before migration 0004 carry it in
    ``content_hash`` (later rows leave it empty and are compared column by column)."""
    norm = event.model_copy(update={"pressed_at": event.device_pressed_at or event.pressed_at,
                                    "clock_corrected": False, "device_pressed_at": None})
    return hashlib.sha256(norm.model_dump_json().encode()).hexdigest()


def same_content(table, row, ev: Response | Followup, at: str, device_at: str | None) -> bool:
    """Is the stored ``row`` the same event as ``ev`` (a resend) rather than a conflict?"""
    if row.content_hash:
        return row.content_hash == legacy_content_hash(ev)
    new = content_key(ev, at, device_at)
    if table is t.followups and row.deleted_at is not None:
        new = new[:4] + (None,) + new[5:]  # the comment was deleted: its text is not kept to compare
    return stored_key(table, row) == new
