"""The display backlight through Linux sysfs (``/sys/class/backlight/*/bl_power``), for the
"backlight off" closed display. Where there is no backlight device (HDMI screens, development
machines) every call does nothing and says so by returning False.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)
SYSFS = Path("/sys/class/backlight")
#: bl_power values (Linux FB_BLANK_*): 0 = on, 4 = powered down.
ON, OFF = "0", "4"


class Backlight:
    """``root`` is the sysfs backlight folder (injectable for tests)."""

    def __init__(self, root: Path = SYSFS):
        self.root = root

    def devices(self) -> list[Path]:
        try:
            return sorted(p / "bl_power" for p in self.root.iterdir() if (p / "bl_power").exists())
        except OSError:
            return []

    def set(self, on: bool) -> bool:
        """Switch every backlight on or off; True when at least one device took it."""
        done = False
        for dev in self.devices():
            try:
                dev.write_text(ON if on else OFF)
                done = True
            except OSError as exc:
                log.warning("cannot switch backlight %s: %s (is the user in the video group?)", dev, exc)
        return done
