"""The technician's hidden screens: the PIN pad, the status page and the button test.

The status page shows ``kiosk.status.device_status`` plus today's counts; everything it reads is
local (the store's ``meta`` table, the cached store config), so it never waits on the network.
"""

from __future__ import annotations

import json
import socket

from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from hymy.score import score_counts
from kiosk.i18n import _


class PinScreen(Screen):
    entered = StringProperty("")
    message = StringProperty("")


class MaintenanceScreen(Screen):
    rows = ListProperty([])  # [(label, value), ...] shown as a two-column table
    message = StringProperty("")


class TestButtonsScreen(Screen):
    message = StringProperty("")


def network_address() -> str:
    """This device's outward IPv4 address, found by asking the kernel for a route (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: routing decision only, UDP connect sends nothing
            return s.getsockname()[0]
    except OSError:
        return ""


def status_rows(info: dict, counts: dict[int, int], filtered: int, scale: int, address: str) -> list[tuple[str, str]]:
    """The maintenance page as (label, value) rows in the current language."""
    last = info.get("last_sync") or {}
    score = score_counts(counts, scale)
    if last:
        state = _("OK") if last.get("ok") else _("Failed")
        sync = f"{state} {last.get('at') or ''}".strip()
    else:
        sync = _("Never")
    index = "-" if score.index_rounded is None else str(score.index_rounded)
    if score.low_confidence and score.n:
        index += " " + _("(few presses)")
    device = info.get("device_id") or _("Not enrolled")
    per_face = " / ".join(str(counts.get(m, 0)) for m in range(1, scale + 1))
    rows = [
        (_("Device"), f"{device} ({info.get('device_name')})"),
        (_("Store"), f"{info.get('store')} ({info.get('store_id')})"),
        (_("Version"), str(info.get("version"))),
        (_("Server"), info.get("server_url") or _("None configured")),
        (_("Enrolment"), enrolment_text(str(info.get("enrolment") or ""))),
        (_("Pending events"), str(info.get("pending"))),
        (_("Last sync"), sync),
        (_("Last success"), (last.get("last_success_at") or _("Never"))),
        (_("Last error"), (last.get("error") or _("None"))),
        (_("Clock"), _("Synced") if info.get("clock_synced") else _("Not synced")),
        (_("Today"), f"N={score.n}  ({per_face}), " + _("not counted") + f" {filtered}"),
        (_("Happy Index"), index),
        (_("Network address"), address or _("No network")),
    ]
    if info.get("store_recovered"):
        rows.insert(6, (_("Store recovered"), recovery_text(info["store_recovered"], info.get("store_recoveries", 1))))
    return rows


def recovery_text(rec: dict, times: int) -> str:
    """The last store recovery (``kiosk.status.store_recoveries``) in the current language."""
    if rec.get("salvage") != "done":
        text = _("{at}: {detail}; salvaging its presses").format(at=rec.get("at"), detail=rec.get("detail"))
    else:
        unreadable = _("unknown") if rec.get("unreadable") is None else str(rec["unreadable"])
        text = _("{at}: {detail}; salvaged {read}, of them {unsent} unsent; unreadable {unreadable}").format(
            at=rec.get("at"), detail=rec.get("detail"), read=rec.get("read", 0), unsent=rec.get("unsent", 0),
            unreadable=unreadable)
    return (_("{times} times, last") + " " if times > 1 else "").format(times=times) + text


def enrolment_text(state: str) -> str:
    """The store meta ``enrolment`` value ("enrolled" | "not enrolled" | "revoked: <why>") in words."""
    if state == "enrolled":
        return _("Enrolled")
    if state.startswith("revoked"):
        return _("Revoked: {why}").format(why=state.partition(":")[2].strip())
    return _("Not enrolled")


def sync_state_json(raw: str | None) -> dict:
    try:
        return json.loads(raw or "null") or {}
    except ValueError:
        return {}
