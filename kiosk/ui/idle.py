"""What the kiosk's screen does on its own while nobody touches it: the faces' attract animation and
the burn-in drift (every content moves by a pixel now and then, and the closed view moves its text).
"""

from __future__ import annotations

import random

from kivy.animation import Animation
from kivy.clock import Clock

#: Seconds without a touch before the faces do their attract animation (then again every period).
ATTRACT_S = 20.0
#: Seconds between burn-in drift steps; each step moves the content by at most one pixel per axis.
DRIFT_S = 60.0
#: Largest drift from the centre, in pixels.
DRIFT_MAX = 8


def attract(faces) -> None:
    """The faces bob one after another: a gentle sign that the screen takes touches."""
    for i, face in enumerate(faces):
        anim = Animation(bob=1.0, d=0.3, t="out_quad") + Animation(bob=0.0, d=0.3, t="in_quad")
        Clock.schedule_once(lambda dt, a=anim, f=face: a.start(f), i * 0.15)


def drift(root, closed=None) -> None:
    """Move ``root``'s content by at most a pixel, staying within DRIFT_MAX of the centre; move the
    ``closed`` screen's text (when built) to a new spot."""
    root.drift_x = max(-DRIFT_MAX, min(DRIFT_MAX, root.drift_x + random.choice((-1, 0, 1))))
    root.drift_y = max(-DRIFT_MAX, min(DRIFT_MAX, root.drift_y + random.choice((-1, 0, 1))))
    if closed is not None:
        closed.spot_x = random.uniform(0.38, 0.62)
        closed.spot_y = random.uniform(0.35, 0.65)
