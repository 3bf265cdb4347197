"""The sync agent's periodic check-in with the server: the heartbeat (what it says is
``sync.heartbeat``'s) and the store-config pull, and the clock correction of presses recorded before
the device's clock synced. ``CheckInSteps`` is a part of ``sync.agent.Agent``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from hymy.errors import NotEnrolled, SyncError
from kiosk.store import recovery
from kiosk.storeconfig import read_store_config, write_store_config
from sync.client import parse_config
from sync.heartbeat import build_heartbeat, cpu_temp_c, disk_free_mb

if TYPE_CHECKING:
    from kiosk.clock import ClockReading
    from kiosk.config import DeviceConfig
    from kiosk.store.outbox import Outbox
    from sync.client import Client
    from sync.delivery import DeliveryPolicy

log = logging.getLogger("hymy.sync")
_T = TypeVar("_T")


class CheckInSteps:
    """The heartbeat, config-pull and clock-correction part of ``sync.agent.Agent`` (its only user),
    kept apart by concept. Works on the agent's config, outbox, client, policy and clock (declared
    below; ``Agent.__init__`` sets them)."""

    config: DeviceConfig
    store: Outbox
    client: Client
    policy: DeliveryPolicy
    clock: Callable[[], ClockReading]
    last_error: str | None
    #: Why the last store config from the server was refused (None: the last one was good).
    config_error: str | None
    _next_send: float
    #: Whether the clock was synced at the last look (None: not looked yet).
    _clock_was_synced: bool | None
    _set_enrolment: Callable[[str], None]
    _unauthorized: Callable[[str], None]

    def heartbeat(self) -> bool:
        """Send one heartbeat; True when the server took it."""
        if not self.client.has_token:
            return False
        etag = None
        with contextlib.suppress(OSError, ValueError):
            _, etag = read_store_config(self.config.store_config_path)
        beat = build_heartbeat(
            clock=self.clock(), pending=self.store.pending_count(), oldest_pending_s=self.store.oldest_pending_age(),
            quarantined=self.store.quarantined_count(), last_error=self.last_error or self.config_error,
            disk_mb=disk_free_mb(self.config.data_dir if self.config.data_dir.exists() else self.store.path.parent),
            temp_c=cpu_temp_c(), config_etag=etag, store_recoveries=len(recovery.evidence(self.store.path)),
        )
        result = self._server_call("heartbeat", lambda: self.client.heartbeat(beat))
        if result is None:
            return False
        self._set_enrolment("enrolled")
        if self.policy.unauthorized:  # the token works again (e.g. re-enrolled): deliver at once
            self.policy.on_auth_ok()
            self._next_send = 0.0
        if result.corrected:
            log.info("the server corrected %d timestamps of this boot", result.corrected)
        return True

    def pull_config(self) -> bool:
        """``GET /api/v1/config`` with the cached ETag; write a new valid config atomically. True if it changed."""
        if not self.client.has_token:
            return False
        path = self.config.store_config_path
        etag = None
        try:
            _, etag = read_store_config(path)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning("%s", exc)
        answer = self._server_call("config pull", lambda: self.client.get_config(etag))
        if answer is None or not answer.changed or answer.body is None:
            return False
        try:
            new = parse_config(answer.body)
        except ValueError as exc:
            self.config_error = f"refused a bad store config from the server: {_one_line(exc)}"
            log.error("%s; keeping the last good one", self.config_error)
            return False
        self.config_error = None
        write_store_config(path, new, answer.etag)
        log.info("new store config %s for %s", answer.etag, new.store_name)
        return True

    def _server_call(self, what: str, request: Callable[[], _T]) -> _T | None:
        """``request()`` (a heartbeat or config pull) or None when it failed: a refused token stops
        delivery (``_unauthorized``), any other SyncError is logged at INFO as ``"<what> failed: ..."``."""
        try:
            return request()
        except NotEnrolled as exc:
            self._unauthorized(str(exc))
        except SyncError as exc:
            log.info("%s failed: %s", what, exc)
        return None

    def correct_clock(self) -> int:
        """Once the kernel clock is synced, correct unsent presses of this boot recorded before it was."""
        reading = self.clock()
        corrected = 0
        if reading.synced and self._clock_was_synced is not True:
            corrected = self.store.correct_clock(reading.boot_id, reading.wall, reading.uptime_ms)
            if corrected:
                log.info("clock synced: corrected the time of %d unsent presses of this boot", corrected)
        self._clock_was_synced = reading.synced
        return corrected


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
