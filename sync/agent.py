"""The sync agent (``hymy sync``): store-and-forward from the kiosk's SQLite outbox to the server.

One thread, one loop (``Agent.run``): every ``POLL_S`` (0.25 s) it looks whether the kiosk committed
something (``sync.watch``), and does whatever is due: enrolment, a batch, a heartbeat with a config
pull, clock correction. Each step is short and bounded by the HTTP timeouts (connect 5 s, read 30 s),
so the systemd watchdog, kicked once per loop turn, sees a live loop.

State that matters lives in the store: ``sent_at`` per event (set only after the server named the event
accepted or duplicate), the quarantine, and the ``meta`` keys ``device_id``, ``enrolment``,
``last_sync`` and ``sync_requested_at``. Everything in memory (backoff, the halved batch limit, timers)
may be lost at any moment: a restarted agent reads the outbox and resumes where it stopped, and the
server's idempotent ids absorb the batch that was in flight.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from hymy import notify
from hymy.errors import StoreError, SyncError
from hymy.protocol import MAX_BATCH_BYTES, MAX_BATCH_EVENTS
from hymy.timestamps import format_ts, utcnow
from kiosk.clock import ClockReading, SystemClock
from kiosk.config import DeviceConfig
from kiosk.store.outbox import SYNC_REQUESTED, Outbox
from sync.backoff import BASE_S, CAP_S, Backoff
from sync.checkin import CheckInSteps
from sync.client import Client
from sync.delivery import AUTH_RETRY_S, DeliveryPolicy, Verdict
from sync.enrolment import EnrolmentSteps
from sync.heartbeat import HEARTBEAT_S
from sync.sender import PIPELINE_BATCHES, DeliverySteps, DrainResult
from sync.watch import POLL_S, ChangeWatcher

log = logging.getLogger("hymy.sync")

#: Seconds between clock-sync checks (the kernel's adjtimex is cheap, but not free).
CLOCK_CHECK_S = 5.0
#: Seconds between prunes of events sent longer ago than ``device.retention_days`` (one hour).
PRUNE_EVERY_S = 3600.0
#: While draining successfully, ``last_sync`` is rewritten at most this often (seconds).
LAST_SYNC_EVERY_S = 1.0
#: Shortest gap between two batches that were not full (seconds): presses trickling in one by one are
#: gathered for up to half a second, so a busy kiosk stays well under the server's per-device rate limit
#: (120 requests/min by default) while a press still reaches the server within about a second.
#: A backlog (full batches) is sent back to back.
TRICKLE_GAP_S = 0.5


class Agent(EnrolmentSteps, DeliverySteps, CheckInSteps):
    """Delivers one device's outbox. Build it with the device config; everything else is injectable.

    Its steps, by concept: enrolment (``sync.enrolment.EnrolmentSteps``), delivery
    (``sync.sender.DeliverySteps``: ``send``, ``drain``) and the check-in (``sync.checkin.CheckInSteps``:
    heartbeat, config pull, clock correction); this class holds their state and runs the loop.

    ``store`` (a ``kiosk.store.outbox.Outbox``) and ``client`` (a ``sync.client.Client``) default to the ones
    the config names; ``clock`` returns a ``ClockReading``; ``monotonic`` is seconds. ``max_events`` /
    ``max_bytes`` bound a batch (500 / 256 KiB); ``backoff_base_s`` / ``backoff_cap_s`` the full-jitter
    backoff (1 s / 300 s; a server that cannot be reached at all is retried on
    ``sync.backoff.UNREACHABLE_CAP_S``, 20 s, or ``backoff_cap_s`` if smaller); ``heartbeat_s`` the
    heartbeat and config-pull period (60 s); ``auth_retry_s`` how often a refused token is tried again (300 s); ``poll_s`` how often an idle
    agent looks for new presses (0.25 s); ``trickle_gap_s`` the shortest gap after a batch that was not
    full (0.5 s).
    """

    def __init__(self, config: DeviceConfig, *, store: Outbox | None = None, client: Client | None = None,
                 clock: Callable[[], ClockReading] | None = None, rand: Callable[[], float] = random.random,
                 monotonic: Callable[[], float] = time.monotonic,
                 max_events: int = MAX_BATCH_EVENTS, max_bytes: int = MAX_BATCH_BYTES,
                 backoff_base_s: float = BASE_S, backoff_cap_s: float = CAP_S,
                 heartbeat_s: float = HEARTBEAT_S, auth_retry_s: float = AUTH_RETRY_S, poll_s: float = POLL_S,
                 trickle_gap_s: float = TRICKLE_GAP_S):
        if not config.server.url and client is None:
            raise SyncError("server.url is not set in the device config; add [server] url = \"https://...\"")
        self.config = config
        self.store = store or Outbox(config.store_path)
        self._own_store = store is None
        self.client = client or Client(config.server.url, ca_bundle=config.server.ca_bundle)
        self.clock = clock or SystemClock.for_config(config.device)
        self.monotonic = monotonic
        self.policy = DeliveryPolicy(max_events, max_bytes, rand=rand, auth_retry_s=auth_retry_s)
        self.policy.backoff = Backoff(base=backoff_base_s, cap=backoff_cap_s, rand=rand)
        self.side_backoff = Backoff(base=backoff_base_s, cap=backoff_cap_s, rand=rand)  # enrolment
        self.heartbeat_s = heartbeat_s
        self.auth_retry_s = auth_retry_s
        self.poll_s = poll_s
        self.trickle_gap_s = trickle_gap_s
        self.watcher = ChangeWatcher(self.store.path)
        self._store_generation = self.store.generation
        self.stop_event = threading.Event()
        self.last_error: str | None = None
        self.config_error: str | None = None
        self._dirty = True
        self._pool: ThreadPoolExecutor | None = None
        self._last_batch_full = False
        self._next_send = 0.0
        self._next_beat = 0.0
        self._next_enrol = 0.0
        self._next_clock = 0.0
        self._next_prune = 0.0
        self._clock_was_synced: bool | None = None
        #: The clock synced after presses of this boot may have gone out with its wrong time: a heartbeat lets
        #: the server correct them, owed from then until one gets through.
        self._beat_owed = False
        self._refused_code: str | None = None
        self._sync_request = self.store.get_meta(SYNC_REQUESTED)
        self._enrolment = self.store.get_meta("enrolment")
        self._last_sync_written = -1e9
        self._last_sync_ok: bool | None = None
        self._ok_unwritten = False
        last = _loads(self.store.get_meta("last_sync"))
        self._last_success_at: str | None = last.get("last_success_at") if last else None

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.watcher.close()
        self.client.close()
        if self._own_store:
            self.store.close()

    def stop(self) -> None:
        """Ask ``run`` to return after the current step (any thread, or a signal handler)."""
        self.stop_event.set()

    def run(self) -> None:
        """The service loop: until ``stop()``. Tells systemd READY once looping and kicks its watchdog."""
        watchdog = notify.Watchdog()
        notify.ready("delivering")
        log.info("sync agent started for %s (store %s)", self.config.server.url, self.store.path)
        while not self.stop_event.is_set():
            watchdog.kick()
            try:
                wait = self.tick()
            except StoreError as exc:  # disk full or read-only: nothing is lost, try again later
                self._error(f"local store: {exc}")
                wait = self.side_backoff.failure()
            except Exception as exc:  # a bug must not stop delivery for good: log it, back off, go on
                log.exception("sync loop step failed")
                self.last_error = f"internal error: {type(exc).__name__}: {exc}"[:500]
                wait = self.side_backoff.failure()
            self.stop_event.wait(max(0.0, min(wait, self.poll_s)))
        notify.stopping()
        log.info("sync agent stopped")

    # ------------------------------------------------------------------ one loop turn

    def tick(self) -> float:
        """Do whatever is due now; return the seconds until something may be due again."""
        now = self.monotonic()
        if self.store.replaced_on_disk():
            log.warning("the store file was replaced on disk (recovery); reopening %s", self.store.path)
            self.store.reopen()
        if self.store.generation != self._store_generation:  # reopened here, or by the store itself
            self._store_generation = self.store.generation
            self.watcher.reset()
            self._dirty = True
        if self.watcher.changed():
            self._dirty = True
            self._check_sync_request()
        if not self.client.has_token and not self._load_token():
            if now < self._next_enrol:
                return self._next_enrol - now
            if not self.enrol():
                return max(0.0, self._next_enrol - self.monotonic())
        if now >= self._next_clock:
            self._next_clock = now + CLOCK_CHECK_S
            was_synced = self._clock_was_synced
            self.correct_clock()
            if was_synced is False and self._clock_was_synced:
                self._beat_owed, self._next_beat = True, now  # the server corrects what it got: now, not in 60 s
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            self.prune()
        if now >= self._next_beat:
            self._next_beat = now + self.heartbeat_s
            if self.heartbeat():  # no config pull through a network that just failed the heartbeat
                self._beat_owed = False
                self.pull_config()
            reading = self.clock()
            if reading.synced and self._clock_was_synced:  # a press recorded unsynced just as it synced
                self.store.correct_clock(reading.boot_id, reading.wall, reading.uptime_ms)
        if self._dirty and now >= self._next_send:
            if self.policy.unauthorized:
                self._load_token()  # a technician may have re-enrolled the device meanwhile
            steps = self.send(PIPELINE_BATCHES)
            step = steps[-1] if steps else None
            if self._beat_owed and any(st.verdict is Verdict.delivered for st in steps):
                self._next_beat = 0.0  # the server is back: the owed heartbeat goes at the next turn
            if step is None:
                self._dirty = False
            elif step.wait_s > 0:
                self._next_send = self.monotonic() + step.wait_s
            elif self._last_batch_full or step.verdict is not Verdict.delivered:
                return 0.0
            else:
                self._next_send = self.monotonic() + self.trickle_gap_s
        if self._dirty:
            return max(0.0, min(self._next_send, self._next_beat) - self.monotonic())
        return max(0.0, self._next_beat - self.monotonic())

    def _check_sync_request(self) -> None:
        """The maintenance screen or hardware gesture wrote ``meta.sync_requested_at``: sync now."""
        requested = self.store.get_meta(SYNC_REQUESTED)
        if requested and requested != self._sync_request:
            log.info("sync requested on the device at %s", requested)
            self.sync_now()
        self._sync_request = requested

    def sync_now(self) -> None:
        """Forget every wait: send, heartbeat and pull config at the next turn."""
        self.policy.backoff.success()
        self.side_backoff.success()
        self._next_send = self._next_beat = self._next_enrol = 0.0
        self._dirty = True

    def prune(self) -> int:
        """Delete the events sent more than ``device.retention_days`` ago (unsent ones never); how many."""
        pruned = self.store.prune(self.config.device.retention_days)
        if pruned:
            log.info("pruned %d events sent more than %d days ago", pruned, self.config.device.retention_days)
        return pruned

    def once(self) -> DrainResult:
        """Everything a sync does, once: enrol if needed, pull config, drain the outbox, heartbeat."""
        result = self.drain(max_batches=0)
        if result.error:
            return result
        self.pull_config()
        result = self.drain()
        self.heartbeat()
        return result

    # ------------------------------------------------------------------ state for status screens

    def _error(self, error: str) -> None:
        if error != self.last_error:
            log.warning("%s", error)
        self.last_error = error
        self._write_last_sync(False, error)

    def _write_last_sync(self, ok: bool, error: str | None, *, force: bool = False) -> None:
        now = self.monotonic()
        if ok and self._last_sync_ok is True and not force and now - self._last_sync_written < LAST_SYNC_EVERY_S:
            self._ok_unwritten = True
            return
        self._ok_unwritten = False
        at = format_ts(utcnow())
        if ok:
            self._last_success_at = at
        doc = {"at": at, "ok": ok, "error": error, "last_success_at": self._last_success_at}
        self.store.set_meta("last_sync", json.dumps(doc))
        self._last_sync_written = now
        self._last_sync_ok = ok


def _loads(text: str | None) -> dict | None:
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None

