"""The panel's LEDs: one gpiozero ``LEDBoard`` (``pwm=True`` makes it PWMLEDs) and one player thread.

Why a player of our own over gpiozero's per-LED ``blink()``/``pulse()``: those start one background
thread per LED with no idea of what came before, so "blink this one, then go back to the soft idle
pulse of all of them" and "the chase pre-empts everything" would need cancelling and restarting
threads by hand. Here every effect (``hardware.effects``) is a list of frames for the whole panel;
a new effect replaces the current one at once, and a finished one falls back to the base effect.

The first frame of ``play()`` is written to the pins in the caller's thread (the gpiozero callback
that just committed the press), so edge -> LED-on costs the commit plus microseconds, not a thread
wake-up.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from enum import StrEnum

from hardware import effects
from hardware.effects import Frame

log = logging.getLogger(__name__)


class Base(StrEnum):
    """What the LEDs show when no feedback is playing."""

    dark = "dark"  # closed, or plain LEDs while idle
    pulse = "pulse"  # PWM idle "press me"
    chase = "chase"  # identify mode


class PanelLights:
    """Plays effects on an ``LEDBoard`` (or on nothing, when the panel has no LEDs).

    ``board``: a gpiozero ``LEDBoard`` whose children are LEDs or PWMLEDs, or None.
    ``pwm``: the board's LEDs take brightness values (dim blinks, pulse).
    """

    def __init__(self, board, pwm: bool):
        self.board = board
        self.pwm = pwm
        self.n = len(board) if board is not None else 0
        self._cond = threading.Condition()
        self._frames: Iterator[Frame] = iter(effects.dark(self.n))
        self._delay: float | None = None
        self._gen = 0
        self._base = Base.dark
        self._in_base = True
        self._closed = False
        self.current: str = "dark"
        self._thread: threading.Thread | None = None
        if board is not None:
            self._thread = threading.Thread(target=self._run, name="hymy-panel-lights", daemon=True)
            self._thread.start()

    # ------------------------------------------------------------------ public

    @property
    def base(self) -> Base:
        return self._base

    def set_base(self, base: Base) -> None:
        """Change the base effect; shown at once unless feedback is playing (then after it)."""
        with self._cond:
            if base == self._base:
                return
            self._base = base
            if self._in_base:
                self._start(self._base_frames(), base.value, in_base=True)

    def play(self, frames: Iterable[Frame], name: str = "effect") -> None:
        """Play a finite effect now (pre-empting whatever plays), then return to the base effect."""
        with self._cond:
            self._start(iter(frames), name, in_base=False)

    def values(self) -> tuple[float, ...]:
        """The LEDs' current values as gpiozero reports them (0.0..1.0)."""
        if self.board is None:
            return ()
        return tuple(float(v) for v in self.board.value)

    def close(self) -> None:
        """Stop the player and switch every LED off (the board itself is closed by its owner)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        if self.board is not None:
            with contextlib.suppress(Exception):  # pins already closed
                self._apply((0.0,) * self.n)

    # ------------------------------------------------------------------ internals

    def _base_frames(self) -> Iterator[Frame]:
        if self.n == 0:
            return iter(effects.dark(0))
        if self._base is Base.chase:
            return effects.chase(self.n)
        if self._base is Base.pulse and self.pwm:
            return effects.pulse(self.n)
        return iter(effects.dark(self.n))

    def _start(self, frames: Iterator[Frame], name: str, *, in_base: bool) -> None:
        """With the lock held: switch to ``frames`` and show the first frame in this thread."""
        if self._closed or self.board is None:
            return
        self._gen += 1
        self._frames = frames
        self._in_base = in_base
        self.current = name
        first = next(self._frames, None)
        if first is None:
            self._delay = 0.0
        else:
            self._apply(first.values)
            self._delay = first.duration
        self._cond.notify_all()

    def _apply(self, values: tuple[float, ...]) -> None:
        for led, v in zip(self.board, values, strict=False):
            if self.pwm:
                led.value = v
            elif v > 0:
                led.on()
            else:
                led.off()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                gen, delay = self._gen, self._delay
                if delay is None:
                    self._cond.wait()  # shown until a new effect (or close) notifies
                    continue
                deadline = time.monotonic() + delay
                while not self._closed and gen == self._gen:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                if self._closed:
                    break
                if gen != self._gen:
                    continue  # a new effect started and already showed its first frame
                frame = next(self._frames, None)
                if frame is None:
                    self._frames = self._base_frames()
                    self._in_base = True
                    self.current = self._base.value
                    frame = next(self._frames)
                try:
                    self._apply(frame.values)
                except Exception:  # pins closed under us at shutdown
                    log.debug("LED update failed", exc_info=True)
                    return
                self._delay = frame.duration
