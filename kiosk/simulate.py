"""Realistic presses through the real capture path, for the demo, the tests and the benchmarks.

``plan_presses`` (pure) draws a day-by-day pattern: more customers at lunch and after work and on
Saturdays, a mostly happy mood with one bad hour, follow-up answers, children pressing twice (repeats)
and a cleaner's presses after closing time. ``simulate_into_store`` replays a plan through
``kiosk.capture.Recorder`` with a simulated clock, so flags, ids and follow-ups are exactly what a real
kiosk would store; the sync agent then sends them like any other press (``deploy.simulate`` does
both for a simulated device that feeds a server).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hymy.hours import is_open, zone
from hymy.protocol import FollowupKind, Source, StoreConfig
from kiosk.capture import Recorder
from kiosk.clock import ClockReading

#: Relative customer flow per local hour (0-23); the shop's hours cut it further.
HOURLY_FLOW = [0, 0, 0, 0, 0, 0, 0.2, 0.4, 0.7, 0.8, 0.9, 1.2, 1.5, 1.2, 0.9, 0.9, 1.2, 1.5, 1.4, 1.0, 0.7, 0.4, 0.2, 0]
#: Relative flow per weekday, Monday first.
WEEKDAY_FLOW = [0.8, 0.85, 0.9, 1.0, 1.2, 1.4, 0.7]
#: Mood shares on a normal hour, most negative first, per scale.
NORMAL_MOODS = {3: [0.12, 0.28, 0.60], 4: [0.06, 0.10, 0.30, 0.54], 5: [0.04, 0.06, 0.15, 0.30, 0.45]}
#: Mood shares in the bad hour (a queue at the tills).
BAD_MOODS = {3: [0.6, 0.25, 0.15], 4: [0.45, 0.25, 0.18, 0.12], 5: [0.4, 0.2, 0.15, 0.15, 0.1]}


@dataclass(frozen=True, slots=True)
class PlannedPress:
    at: datetime  #: aware UTC instant of the press
    mood: int
    followup: tuple[str, str] | None = None  #: (kind, value) answered after the press
    repeat: bool = False  #: a second press 1-3 s later (counted as `repeat` by the capture core)


class SimClock:
    """A clock the simulator moves: wall time is set per press; uptime follows from one simulated boot."""

    def __init__(self, boot_id: str, booted_at: datetime, synced: bool = True):
        self.boot_id = boot_id
        self.booted_at = booted_at
        self.synced = synced
        self.now = booted_at

    def __call__(self) -> ClockReading:
        uptime = int((self.now - self.booted_at) / timedelta(milliseconds=1))
        return ClockReading(wall=self.now, synced=self.synced, boot_id=self.boot_id, uptime_ms=max(0, uptime))


def plan_presses(config: StoreConfig, start: datetime, end: datetime, *, rate: float = 12.0,
                 seed: int = 1, bad_hour: bool = True) -> Iterator[PlannedPress]:
    """Presses between ``start`` and ``end`` (aware), in time order.

    ``rate`` is counted presses in a peak hour. One bad hour per week (Thursday 17-18 local) when
    ``bad_hour``. Deterministic for a given ``seed``.
    """
    rng = random.Random(seed)
    tz = zone(config.timezone)
    scale = config.question.scale
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        local = hour.astimezone(tz)
        bad = bad_hour and local.weekday() == 3 and local.hour == 17
        flow = HOURLY_FLOW[local.hour] * WEEKDAY_FLOW[local.weekday()] * rate
        shares = (BAD_MOODS if bad else NORMAL_MOODS)[scale]
        open_now = is_open(config.opening_hours, tz, hour)
        n = _poisson(rng, flow * (1.6 if bad else 1.0)) if open_now else (1 if rng.random() < 0.05 else 0)
        for at in sorted(hour + timedelta(seconds=rng.uniform(0, 3600)) for _ in range(n)):
            if not start <= at < end:
                continue
            mood = rng.choices(range(1, scale + 1), weights=shares)[0]
            yield PlannedPress(at, mood, _followup(rng, config, mood, bad), repeat=rng.random() < 0.04)
        hour += timedelta(hours=1)


def _followup(rng: random.Random, config: StoreConfig, mood: int, bad: bool) -> tuple[str, str] | None:
    kind = config.followup_for(mood)
    if kind == "reason" and config.reasons and rng.random() < 0.65:
        if bad and any(r.id == "queue" for r in config.reasons):
            return ("reason", "queue")
        return ("reason", rng.choice(config.reasons).id)
    if kind == "praise" and config.praise and rng.random() < 0.4:
        return ("praise", rng.choice(config.praise).id)
    return None


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method; lam is small (a few dozen at most) here.
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam**0.5)))
    threshold, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def simulate_into_store(store, config: StoreConfig, start: datetime, end: datetime, *, seed: int = 1,
                        rate: float = 12.0, boot_id: str = "sim-boot",
                        progress: Callable[[int], None] | None = None) -> int:
    """Replay a plan through a Recorder into ``store``; return the number of events stored.

    ``progress(n)`` is called with the number of presses done since the last call (for a progress bar).
    """
    clock = SimClock(boot_id, start - timedelta(hours=1))
    recorder = Recorder(store, lambda: config, clock)
    events = 0
    for press in plan_presses(config, start, end, rate=rate, seed=seed):
        clock.now = press.at
        response = recorder.record(press.mood, Source.simulated)
        events += 1
        if press.followup:
            clock.now = press.at + timedelta(seconds=2)
            recorder.record_followup(response.id, FollowupKind(press.followup[0]), press.followup[1])
            events += 1
        if press.repeat:
            clock.now = press.at + timedelta(seconds=3)
            recorder.record(press.mood, Source.simulated)
            events += 1
        if progress:
            progress(1)
    return events


def simulate_device_store(config, span: timedelta, *, rate: float = 12.0, seed: int = 1,
                          progress: Callable[[int], None] | None = None) -> int:
    """Simulate ``span`` of history ending now into the store of the device ``config`` (a DeviceConfig)."""
    from kiosk.store import Store
    from kiosk.storeconfig import StoreConfigCache

    end = datetime.now(UTC)
    with Store(config.store_path) as store:
        store_config = StoreConfigCache(config.store_config_path)()
        return simulate_into_store(store, store_config, end - span, end, seed=seed, rate=rate, progress=progress)
