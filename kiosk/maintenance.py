"""The technician's hidden screens as a pure controller: the PIN pad, the status page and the button
test. No Kivy: the touchscreen app binds it to its screens (``kiosk.ui.maintenance``).

The PIN is checked by ``kiosk.pinlock.PinLock`` (Argon2id, lock-out after three wrong PINs). The
status page shows ``kiosk.status.device_status`` plus today's counts; everything it reads is local
(the store's ``meta`` table, the cached store config), so it never waits on the network. "Sync now"
only asks the sync agent (``Store.request_sync``). Each of the three screens goes back to the
question after ``MAINTENANCE_IDLE_S`` untouched; navigation is the screen flow's (``kiosk.screenflow``).
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable
from typing import Any, Protocol

from hymy.score import score_counts
from kiosk.i18n import _
from kiosk.pinlock import PinLock, PinResult
from kiosk.screenflow import MAINTENANCE, PIN, SERVICE_SCREENS, TEST, ScreenFlow

#: Idle seconds after which the PIN pad, the maintenance page and the button test close themselves.
MAINTENANCE_IDLE_S = 120.0
#: The longest PIN the pad takes, in digits.
MAX_PIN_DIGITS = 12


class Device(Protocol):
    """What the controller needs of the kiosk (``kiosk.assembly.KioskCore`` is one)."""

    def status(self) -> dict[str, Any]: ...

    def today_counts(self, timezone: str) -> tuple[dict[int, int], int, int]: ...

    def request_sync(self) -> None: ...


class Maintenance:
    """The PIN pad, the maintenance page and the button test of one kiosk.

    ``flow``: the kiosk's ``ScreenFlow`` (it shows the screens); ``pinlock``: the ``PinLock`` of the
    device config's ``maintenance.pin_hash``; ``device``: the kiosk (``Device``); ``address``: a
    callable giving the network address shown (default ``network_address``).

    What should show is in the attributes: ``entered`` (the digits typed) and ``pin_message`` on the
    PIN pad, ``rows`` and ``page_message`` on the maintenance page, ``test_message`` and ``tested``
    (the mood last tested, with a serial number so a repeat shows again) on the button test.
    """

    def __init__(self, flow: ScreenFlow, pinlock: PinLock, device: Device, *,
                 address: Callable[[], str] | None = None):
        self.flow = flow
        self.pinlock = pinlock
        self.device = device
        self.address = address or network_address
        self.entered = ""
        self.pin_message = ""
        self.rows: list[tuple[str, str]] = []
        self.page_message = ""
        self.test_message = ""
        self.tested: tuple[int, int] | None = None
        flow.on_test_press = self.test_press

    # ------------------------------------------------------------------ the PIN pad

    def open_pin_pad(self) -> None:
        """The corner's long press: the PIN pad (ignored while a technician's screen shows)."""
        if self.flow.screen in SERVICE_SCREENS:
            return
        self.entered = ""
        self.pin_message = self._pin_message(None)
        self.flow.go(PIN, MAINTENANCE_IDLE_S)

    def key(self, digit: str) -> None:
        """A digit on the pad (at most ``MAX_PIN_DIGITS``)."""
        if len(self.entered) < MAX_PIN_DIGITS:
            self.entered += digit
            self.flow.changed()

    def clear(self) -> None:
        self.entered = ""
        self.flow.changed()

    def submit(self) -> PinResult:
        """OK on the pad: the maintenance page for the right PIN, else why not (wrong, locked, none set)."""
        result = self.pinlock.check(self.entered)
        self.entered = ""
        if result is PinResult.ok:
            self.show_page()
        else:
            self.pin_message = self._pin_message(result)
            self.flow.changed()
        return result

    def _pin_message(self, result: PinResult | None) -> str:
        if not self.pinlock.enabled or result is PinResult.disabled:
            return _("No maintenance PIN is configured.")
        locked = self.pinlock.locked_for()
        if locked > 0:
            return _("Locked. Try again in {seconds} s.").format(seconds=math.ceil(locked))
        if result is PinResult.wrong:
            return _("Wrong PIN. Tries left: {tries}").format(tries=self.pinlock.tries_left)
        return ""

    # ------------------------------------------------------------------ the page

    def show_page(self) -> None:
        """The maintenance page, its rows read afresh."""
        self.page_message = ""
        self.refresh()
        self.flow.go(MAINTENANCE, MAINTENANCE_IDLE_S)

    def refresh(self) -> None:
        """Read the status rows again (in the current language)."""
        counts, filtered, scale = self.device.today_counts(self.flow.config().timezone)
        self.rows = status_rows(self.device.status(), counts, filtered, scale, self.address())
        self.flow.changed()

    def sync_now(self) -> None:
        """Ask the sync agent to sync at once; never waits for it."""
        self.device.request_sync()
        self.sync_requested()

    def sync_requested(self) -> None:
        """A sync was requested (this page's button or the buttons' long hold): say so on the page."""
        if self.flow.screen == MAINTENANCE:
            self.page_message = _("Sync requested.")
            self.flow.changed()

    # ------------------------------------------------------------------ the button test

    def show_test(self) -> None:
        self.test_message = ""
        self.flow.go(TEST, MAINTENANCE_IDLE_S)

    def test_press(self, mood: int, button: bool = False) -> None:
        """Which face was touched or which button pressed (nothing is recorded; the flow voids GPIO presses)."""
        text = _("Button {number} works.") if button else _("Face {number} works.")
        self.test_message = text.format(number=mood)
        self.tested = (mood, (self.tested or (0, 0))[1] + 1)
        self.flow.changed()

    # ------------------------------------------------------------------ all three

    def touched(self) -> None:
        """Any touch on a technician's screen: its idle timeout starts again."""
        if self.flow.screen in SERVICE_SCREENS:
            self.flow.rearm()

    def leave(self) -> None:
        self.flow.show_question()


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
