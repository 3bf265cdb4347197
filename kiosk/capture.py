"""The capture core: every press, whatever its source (touch, GPIO button, simulator), goes through here.

``decide_flags`` and ``build_response`` are pure. ``Recorder.record`` glues them to a clock, the store
config and the local store, and returns only once the press is committed, so the caller may thank the
customer. Nothing here imports Kivy, gpiozero or requests.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from uuid6 import uuid7

from hymy import __version__
from hymy.errors import CaptureError, StoreCorrupt, StoreError
from hymy.hours import is_open
from hymy.protocol import Flag, Followup, FollowupKind, Response, Source, StoreConfig
from hymy.score import check_mood
from hymy.timestamps import parse_ts
from kiosk.clock import ClockReading

log = logging.getLogger(__name__)

#: Presses kept in memory while the disk is full, written as soon as it has room again.
MAX_HELD = 10_000
#: Seconds between background retries of held presses (so recording resumes without a new press).
RETRY_S = 5.0


def new_id() -> str:
    """A UUIDv7 string: time-ordered, made on the device, unique without coordination."""
    return str(uuid7())


def within_interval(now: ClockReading, last: dict | None, interval_s: float) -> bool:
    """Whether a press at ``now`` falls inside the response interval after the ``last`` counted press.

    Within one boot the monotonic uptime decides (a clock jump at NTP sync changes nothing);
    across boots the wall clocks are compared.
    """
    if last is None or interval_s <= 0:
        return False
    if last.get("boot_id") == now.boot_id and last.get("uptime_ms") is not None:
        elapsed_ms = now.uptime_ms - int(last["uptime_ms"])
    else:
        elapsed_ms = (now.wall - parse_ts(last["pressed_at"])) / timedelta(milliseconds=1)
    return 0 <= elapsed_ms < interval_s * 1000


def decide_flags(now: ClockReading, last_counted: dict | None, config: StoreConfig) -> list[Flag]:
    """The flags a press at ``now`` gets: ``closed`` outside opening hours, ``repeat`` inside the interval.

    A press outside opening hours is not compared with the interval (it is not counted anyway).
    """
    if not is_open(config.opening_hours, config.timezone, now.wall):
        return [Flag.closed]
    if within_interval(now, last_counted, config.response_interval_s):
        return [Flag.repeat]
    return []


def build_response(mood: int, source: Source | str, now: ClockReading, config: StoreConfig,
                   flags: list[Flag], *, app_version: str = __version__, id: str | None = None) -> Response:
    """The response record of the design brief, ready to store and send."""
    scale = config.question.scale
    try:
        check_mood(mood, scale)
    except ValueError as exc:
        raise CaptureError(str(exc)) from None
    try:
        src = Source(source)
    except ValueError:
        raise CaptureError(f"source: {source!r} is not valid; use touch, button or simulated") from None
    return Response(
        id=id or new_id(), question_id=config.question.id, mood=mood, scale=scale, source=src,
        pressed_at=now.wall, clock_synced=now.synced, boot_id=now.boot_id, uptime_ms=now.uptime_ms,
        flags=flags, app_version=app_version,
    )


def build_followup(response_id: str, kind: FollowupKind | str, value: str, now: ClockReading) -> Followup:
    """A follow-up event (reason, praise, comment or void) referencing ``response_id``."""
    try:
        return Followup(
            id=new_id(), response_id=response_id, kind=FollowupKind(kind), value=value, pressed_at=now.wall,
            clock_synced=now.synced, boot_id=now.boot_id, uptime_ms=now.uptime_ms,
        )
    except ValueError as exc:
        raise CaptureError(f"followup: {exc}") from None


class Recorder:
    """Records presses and follow-ups into the local store; safe to call from any thread.

    ``store`` is a ``kiosk.store.Store``; ``config`` a callable returning the current StoreConfig
    (it may change when the sync agent pulls a new one); ``clock`` a callable returning a ClockReading.
    ``on_recorded(event)`` is called after each commit (LEDs, screens, local alert rules).
    ``retry_s`` (default 5 s) is how often a background timer retries presses held while the store
    could not write; 0 retries only at the next press or ``flush()``.
    """

    def __init__(self, store, config: Callable[[], StoreConfig], clock: Callable[[], ClockReading], *,
                 app_version: str = __version__,
                 on_recorded: Callable[[Response | Followup], None] | None = None,
                 retry_s: float = RETRY_S):
        self.store = store
        self.config = config
        self.clock = clock
        self.app_version = app_version
        self.on_recorded = on_recorded
        self.retry_s = retry_s
        self._lock = threading.RLock()
        self._retry: threading.Timer | None = None
        self._closed = False
        self._held: deque[Response | Followup] = deque()
        self._last_counted = store.last_counted_response()
        #: The last store error, shown on the maintenance screen and in status; None when writing works.
        self.last_error: str | None = None

    def record(self, mood: int, source: Source | str = Source.touch) -> Response:
        """Record one press and return it once committed.

        If the store cannot write (disk full, read-only), the press is held in memory, the error is
        logged and kept in ``last_error``, and the press is written as soon as writing works again;
        the screen keeps working either way.
        """
        with self._lock:
            now = self.clock()
            config = self.config()
            flags = decide_flags(now, self._last_counted, config)
            response = build_response(mood, source, now, config, flags, app_version=self.app_version)
            self._commit(response)
            if not flags:
                self._last_counted = response.model_dump(mode="json")
        self._notify(response)
        return response

    def record_followup(self, response_id: str, kind: FollowupKind | str, value: str) -> Followup:
        """Record a follow-up (its own immutable event) for an already stored response."""
        with self._lock:
            followup = build_followup(response_id, kind, value, self.clock())
            self._commit(followup)
        self._notify(followup)
        return followup

    def void(self, response_id: str, why: str = Flag.maintenance.value) -> Followup:
        """Void a stored press (the maintenance gesture): a ``void`` follow-up; the press is kept."""
        return self.record_followup(response_id, FollowupKind.void, why)

    def flush(self) -> int:
        """Write presses held while the store was unavailable; return how many were written."""
        with self._lock:
            return self._flush_held()

    @property
    def held(self) -> int:
        """Presses waiting in memory for the disk to have room again."""
        return len(self._held)

    def close(self) -> None:
        """Stop the background retry (held presses stay in memory; call ``flush`` first to keep them)."""
        with self._lock:
            self._closed = True
            if self._retry is not None:
                self._retry.cancel()
                self._retry = None

    def _commit(self, event: Response | Followup) -> None:
        if len(self._held) >= MAX_HELD:
            dropped = self._held.popleft()
            log.error("more than %d presses held in memory; dropped the oldest (%s)", MAX_HELD, dropped.id)
        self._held.append(event)
        self._flush_held()

    def _flush_held(self) -> int:
        if not self._held:
            return 0
        events = list(self._held)
        try:
            try:
                self.store.append_many(events)
            except StoreCorrupt as exc:  # the store moved the damaged file aside: write into the fresh one
                log.error("%s", exc)
                self.store.append_many(events)
        except StoreError as exc:  # unavailable (disk full, read-only), or damaged twice
            if self.last_error != str(exc):
                log.error("cannot record presses (%d held in memory, retried every %g s and at the next press): %s",
                          len(self._held), self.retry_s, exc)
            self.last_error = str(exc)
            self._schedule_retry()
            return 0
        if self.last_error:
            log.warning("recording works again; wrote %d held presses", len(events))
        self.last_error = None
        self._held.clear()
        return len(events)

    def _schedule_retry(self) -> None:
        if self.retry_s <= 0 or self._closed or self._retry is not None:
            return
        self._retry = threading.Timer(self.retry_s, self._retry_now)
        self._retry.daemon = True
        self._retry.start()

    def _retry_now(self) -> None:
        with self._lock:
            self._retry = None
            try:
                self._flush_held()
            except Exception:  # a non-disk store error: logged, retried at the next press
                log.exception("retrying held presses failed")

    def _notify(self, event: Response | Followup) -> None:
        if self.on_recorded is not None:
            try:
                self.on_recorded(event)
            except Exception:  # a broken LED or screen callback must never lose or block a press
                log.exception("on_recorded callback failed")
