"""Realistic presses through the real capture path, for the demo, the tests and the benchmarks.

The plan is pure and lives in the core (``hymy.pressplan``: a store's pattern of customers, moods,
follow-ups, comments, repeats and after-hours presses, so the server's sample data can share it).
``simulate_into_store`` replays a plan through ``kiosk.capture.Recorder`` with a simulated clock, so
flags, ids and follow-ups are exactly what a real kiosk would store; the sync agent then sends them like
any other press (``deploy.simulate`` does both for a simulated device that feeds a server).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hymy.pressplan import DEFAULT_PATTERN, Pattern, PlannedPress, plan_presses
from hymy.protocol import FollowupKind, Source, StoreConfig
from kiosk.capture import Recorder
from kiosk.clock import ClockReading

#: SQLite's ``synchronous`` for a simulated history: NORMAL (in WAL mode a power cut may lose the last
#: transactions, never the file) writes simulated presses about four times as fast as FULL, which a
#: real press needs; the kiosk itself still opens its store with FULL.
HISTORY_SYNCHRONOUS = "NORMAL"


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


def record_presses(store, config: StoreConfig, presses: Iterable[PlannedPress], clock: SimClock, *,
                   progress: Callable[[int], None] | None = None) -> int:
    """Record planned presses (``hymy.pressplan``) through a Recorder into ``store``, moving ``clock`` to
    each; return the number of events stored (responses, follow-ups, comments, repeats).

    The same ``clock`` may serve several calls in time order (a history recorded piece by piece).
    ``progress(n)`` is called with the number of presses done since the last call (for a progress bar).
    """
    recorder = Recorder(store, lambda: config, clock)
    events = 0
    for press in presses:
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
        if press.followup and press.comment:
            clock.now = press.at + timedelta(seconds=20)
            recorder.record_followup(response.id, FollowupKind.comment, press.comment)
            events += 1
        if progress:
            progress(1)
    return events


def simulate_into_store(store, config: StoreConfig, start: datetime, end: datetime, *, seed: int = 1,
                        rate: float | None = None, pattern: Pattern = DEFAULT_PATTERN, boot_id: str = "sim-boot",
                        progress: Callable[[int], None] | None = None) -> int:
    """Replay a plan (``hymy.pressplan.plan_presses`` of ``pattern``) through a Recorder into ``store``;
    return the number of events stored.

    ``rate`` (counted presses in a peak hour) replaces the pattern's when given; ``progress`` as in
    ``record_presses``.
    """
    if rate is not None:
        pattern = replace(pattern, rate=rate)
    plan = plan_presses(config, start, end, pattern=pattern, seed=seed)
    return record_presses(store, config, plan, SimClock(boot_id, start - timedelta(hours=1)), progress=progress)


def simulate_device_store(config, span: timedelta, *, rate: float | None = None, seed: int = 1,
                          pattern: Pattern = DEFAULT_PATTERN, end: datetime | None = None,
                          progress: Callable[[int], None] | None = None) -> int:
    """Simulate ``span`` of history ending at ``end`` (default now) into the store of the device ``config``
    (a DeviceConfig), with the store config the device has cached; see ``simulate_into_store``."""
    from kiosk.store import Store
    from kiosk.storeconfig import StoreConfigCache

    end = end or datetime.now(UTC)
    with Store(config.store_path, synchronous=HISTORY_SYNCHRONOUS) as store:
        store_config = StoreConfigCache(config.store_config_path)()
        return simulate_into_store(store, store_config, end - span, end, seed=seed, rate=rate, pattern=pattern,
                                   progress=progress)
