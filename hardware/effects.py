"""LED effects of the smiley panel as frames: ``(values per LED, seconds)``. Pure: no gpiozero.

Values are brightness 0.0..1.0 (a plain on/off LED is on for any value above 0). A duration of
None means "until something else is played". Finite effects (press feedback) end and the panel
returns to its base effect (idle pulse, identify chase, or dark).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple


class Frame(NamedTuple):
    values: tuple[float, ...]
    #: Seconds to show it; None = until the next effect.
    duration: float | None


#: Bright feedback after a counted press: full brightness for this long (s), then a short fade.
ACCEPT_ON_S = 0.35
ACCEPT_FADE_S = 0.25
#: Feedback for a ``repeat`` press: two short dim blinks (s each), so the panel never looks frozen.
REPEAT_ON_S = 0.08
REPEAT_OFF_S = 0.08
REPEAT_LEVEL = 0.2
#: Idle "press me" pulse on PWM LEDs: period (s) and peak brightness (soft, not a light show).
PULSE_PERIOD_S = 3.0
PULSE_PEAK = 0.35
PULSE_STEPS = 30
#: Identify chase: each LED lit for this long (s) in turn.
CHASE_STEP_S = 0.15


def _one(n: int, index: int, value: float) -> tuple[float, ...]:
    return tuple(value if i == index else 0.0 for i in range(n))


def dark(n: int) -> list[Frame]:
    """All LEDs off, until something else plays."""
    return [Frame((0.0,) * n, None)]


def accept(n: int, index: int, pwm: bool) -> list[Frame]:
    """A counted press: LED ``index`` bright, others off; PWM LEDs fade out at the end."""
    frames = [Frame(_one(n, index, 1.0), ACCEPT_ON_S)]
    if pwm:
        steps = 5
        frames += [Frame(_one(n, index, 1.0 - (k + 1) / (steps + 1)), ACCEPT_FADE_S / steps) for k in range(steps)]
    frames.append(Frame((0.0,) * n, 0.0))
    return frames


def repeat(n: int, index: int, pwm: bool) -> list[Frame]:
    """A press inside the response interval: two short blinks, dim on PWM LEDs, so it differs from ``accept``."""
    level = REPEAT_LEVEL if pwm else 1.0
    on, off = Frame(_one(n, index, level), REPEAT_ON_S), Frame((0.0,) * n, REPEAT_OFF_S)
    return [on, off, on, Frame((0.0,) * n, 0.0)]


def chase(n: int) -> Iterator[Frame]:
    """Identify mode: one LED after another, forever (find this kiosk among many)."""
    i = 0
    while True:
        yield Frame(_one(n, i % n, 1.0), CHASE_STEP_S)
        i += 1


def pulse(n: int) -> Iterator[Frame]:
    """The soft idle "press me" breathing of every PWM LED together, forever."""
    step = PULSE_PERIOD_S / PULSE_STEPS
    k = 0
    while True:
        level = PULSE_PEAK * (1 - math.cos(2 * math.pi * k / PULSE_STEPS)) / 2
        yield Frame((round(level, 4),) * n, step)
        k = (k + 1) % PULSE_STEPS


def total_s(frames: list[Frame]) -> float:
    """How long a finite effect lasts, in seconds."""
    return sum(f.duration or 0.0 for f in frames)
