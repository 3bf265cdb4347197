"""Contact-bounce filter for one button: leading edge, so a real press is never delayed.

An arcade button's contacts chatter for a few milliseconds when they close and open. The filter
accepts a press edge at once (no waiting for the line to settle, so the LED answers as fast as the
store commits) and then ignores press edges that follow a release edge by less than ``bounce_s``:
chatter has released-then-pressed gaps of well under a millisecond to a few ms, while two real presses
by a human are at least ~80 ms apart (a finger must lift and come back).

Why not gpiozero's ``bounce_time``: its meaning depends on the pin factory (lgpio's debounce waits
for the line to be stable, delaying every press by the whole bounce time; RPi.GPIO drops edges
after an edge; gpiozero's MockPin ignores it entirely), so tests could not show the behaviour the
kiosk really has. This filter is the same on every factory. Pure: no gpiozero, times in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Debouncer:
    """Turns raw edges (``edge(pressed, t)``) into presses; ``t`` is a monotonic time in seconds.

    ``bounce_s`` (default 0.020 s): a press edge less than this after the last release edge is
    contact chatter. ``pressed`` is the filtered state: True between an accepted press and the
    next release edge.
    """

    bounce_s: float = 0.020
    pressed: bool = False
    _last_release: float | None = None

    def edge(self, pressed: bool, t: float) -> bool:
        """Feed one edge; True when it is a new, real press (call the capture core once)."""
        if not pressed:
            self._last_release = t
            self.pressed = False
            return False
        if self.pressed:
            return False  # a second press edge without a release between: nothing new
        self.pressed = True
        # chatter: the contacts opened for a moment and closed again
        return self._last_release is None or not 0 <= t - self._last_release < self.bounce_s
