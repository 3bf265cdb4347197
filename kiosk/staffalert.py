"""The local staff alert: the kiosk evaluates its store's ``local`` alert rules on its own presses.

It needs no network at all: the rules come from the cached store config, the presses from the local
store, the evaluation from ``hymy.rules`` (the very code the server runs). When any local rule is
true the staff lamp (or buzzer) goes on; when every rule has cleared it goes off, whether a happier
press arrived or the unhappy ones simply aged out of the window. So the monitor is evaluated after
each recorded press (``on_recorded``, chained into ``Recorder``'s callback) and on a timer
(``tick()``, every few seconds, or ``start()`` for a background thread on a buttons-only kiosk).

The device clock decides the window. Before NTP sync it may be wrong; presses of the same boot still
carry wall-clock times consistent with each other, so the window is right relative to ``now``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hymy.periodic import PeriodicJob
from hymy.protocol import StoreConfig
from hymy.rules import EpisodeState, Evaluation, Transition, counted_presses, evaluate, longest_window, step
from hymy.timestamps import utcnow

log = logging.getLogger(__name__)

#: How often ``start()`` re-evaluates by default, in seconds.
TICK_S = 5.0
#: A buzzer does not sound for the whole episode: a short beep (on, off in seconds) every 10 s.
BUZZER_BEEP = (0.2, 9.8)


class LocalAlertMonitor:
    """Drives the staff lamp from the store's ``local`` alert rules.

    ``store``: a ``kiosk.store.Store``; ``config``: callable returning the current StoreConfig;
    ``staff_alert``: a ``hardware.staffalert.StaffAlert`` (anything with ``on()``, ``off()`` and,
    when ``blink`` is given, ``blink(on_time, off_time)``), or None for a kiosk without one (the
    on-screen indicator still works); ``clock``: callable returning an aware datetime or a
    ``kiosk.clock.ClockReading`` (default: the system clock in UTC); ``on_change(active,
    evaluations)`` is called after the lamp changed, from whichever thread evaluated (Kivy code must
    hop to the main thread itself); ``blink``: ``(on_s, off_s)`` to blink instead of a steady light
    (default None: a lamp is steady, a buzzer beeps briefly every 10 s, ``BUZZER_BEEP``).
    """

    def __init__(self, store, config: Callable[[], StoreConfig], staff_alert=None, *,
                 clock: Callable[[], Any] = utcnow,
                 on_change: Callable[[bool, dict[str, Evaluation]], None] | None = None,
                 blink: tuple[float, float] | None = None):
        self.store = store
        self.config = config
        self.staff_alert = staff_alert
        self.clock = clock
        self.on_change = on_change
        self.blink = blink
        self._lock = threading.Lock()
        self._states: dict[str, EpisodeState] = {}
        self._evaluations: dict[str, Evaluation] = {}
        self._lamp_on = False
        self._timer: PeriodicJob | None = None
        #: The last error reading the store or driving the lamp; None when all is well.
        self.last_error: str | None = None

    # ------------------------------------------------------------------ what the kiosk reads

    @property
    def active(self) -> bool:
        """True while any local rule is in an episode (the lamp is on)."""
        return self._lamp_on

    @property
    def active_rules(self) -> tuple[str, ...]:
        """Ids of the local rules currently in an episode."""
        return tuple(rid for rid, s in self._states.items() if s.active)

    @property
    def evaluations(self) -> dict[str, Evaluation]:
        """The last evaluation of each local rule, by rule id."""
        return dict(self._evaluations)

    # ------------------------------------------------------------------ hooks

    def on_recorded(self, event) -> None:
        """Chain into ``Recorder(on_recorded=...)``: re-evaluate after every committed event."""
        self.tick()

    def tick(self, now: datetime | None = None) -> bool:
        """Evaluate every local rule at ``now`` (default: the clock) and switch the lamp; returns
        ``active``. Never raises: a store or lamp problem is logged and kept in ``last_error``."""
        try:
            return self._tick(now)
        except Exception as exc:  # the staff lamp must never take the kiosk down
            if self.last_error != str(exc):
                log.exception("local staff alert evaluation failed")
            self.last_error = str(exc)
            return self._lamp_on

    def start(self, interval_s: float = TICK_S) -> None:
        """Tick every ``interval_s`` seconds on a daemon thread (``hymy.periodic``) until ``stop()``."""
        if self._timer is None:
            self._timer = PeriodicJob("staff-alert", interval_s, self.tick)
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer thread (if started; waiting at most 5 s for a tick) and switch the lamp off."""
        if self._timer is not None:
            self._timer.stop(timeout_s=5)
            self._timer = None
        with self._lock:
            self._switch(False)

    # ------------------------------------------------------------------ internals

    def _now(self, now: datetime | None) -> datetime:
        if now is not None:
            return now
        reading = self.clock()
        return getattr(reading, "wall", reading)

    def _tick(self, now: datetime | None) -> bool:
        changed = False
        with self._lock:
            now = self._now(now)
            cfg = self.config()
            rules = [r for r in cfg.alert_rules if r.local]
            evaluations: dict[str, Evaluation] = {}
            if rules:
                since = now - longest_window(rules)
                rows = self.store.recent_responses(since)
                voided = self.store.voided_since(since)
                presses = counted_presses(rows, voided, hours=cfg.opening_hours, tz=cfg.timezone)
                for rule in rules:
                    ev = evaluate(rule, presses, now, hours=cfg.opening_hours, tz=cfg.timezone)
                    evaluations[rule.id] = ev
                    state, tr = step(self._states.get(rule.id, EpisodeState()), ev)
                    self._states[rule.id] = state
                    if tr is Transition.fired:
                        log.warning("staff alert: rule %s fired: %s", rule.id, ev.describe())
                    elif tr is Transition.cleared:
                        log.info("staff alert: rule %s cleared: %s", rule.id, ev.describe())
            # rules removed from the config (or no longer local) end their episodes
            for rid in [rid for rid in self._states if rid not in evaluations]:
                del self._states[rid]
            self._evaluations = evaluations
            want = any(s.active for s in self._states.values())
            if want != self._lamp_on:
                self._switch(want)
                changed = True
            self.last_error = None
            active = self._lamp_on
        if changed and self.on_change is not None:
            try:
                self.on_change(active, dict(evaluations))
            except Exception:
                log.exception("staff alert on_change callback failed")
        return active

    def _switch(self, on: bool) -> None:
        self._lamp_on = on
        lamp = self.staff_alert
        if lamp is None:
            return
        pattern = self.blink or (BUZZER_BEEP if getattr(lamp, "kind", None) == "buzzer" else None)
        if not on:
            lamp.off()
        elif pattern:
            lamp.blink(*pattern)
        else:
            lamp.on()
