"""What floats above the kiosk's screens (``KioskRoot`` in ``kiosk.kv``): the identify banner, the
discreet staff-alert dot and the technician's notice of a refused provisioning file.
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock

from kiosk.i18n import translator

#: Seconds the identify banner shows at most (hardware identify gesture).
IDENTIFY_S = 10.0
#: Characters of a refused provisioning file's message shown.
NOTICE_CHARS = 400


class Overlay:
    """Drives ``root``'s overlay properties. ``device_name``: the identify banner's text;
    ``notice_path``: where ``hymy firstboot`` writes why it refused a provisioning file;
    ``time_scale`` multiplies the banner's time (tests)."""

    def __init__(self, root, device_name: str, notice_path: Path, time_scale: float = 1.0):
        self.root = root
        self.device_name = device_name
        self.notice_path = notice_path
        self.time_scale = time_scale
        self._identify_event = None

    def identify(self, active: bool = True) -> None:
        """Show the device's name big (find this kiosk among many); it hides when identify mode ends,
        or after IDENTIFY_S seconds at the latest."""
        if self._identify_event is not None:
            self._identify_event.cancel()
            self._identify_event = None
        self.root.identify_text = self.device_name if active else ""
        if active:
            self._identify_event = Clock.schedule_once(lambda dt: self.identify(False), IDENTIFY_S * self.time_scale)

    def staff_alert(self, active: bool) -> None:
        """The amber dot while a local staff-alert rule is in an episode."""
        self.root.staff_alert = active

    def check_notice(self) -> None:
        """Show a refused provisioning file's message to the technician (hidden once the file is gone)."""
        try:
            text = self.notice_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        if text:
            text = translator.gettext("The provisioning file was refused; the last good settings stay in force:") \
                + "\n" + text[:NOTICE_CHARS]
        if self.root.notice_text != text:
            self.root.notice_text = text
