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

import contextlib
import hashlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from hymy import notify
from hymy.errors import NotEnrolled, ServerUnreachable, StoreError, SyncError
from hymy.protocol import MAX_BATCH_BYTES, MAX_BATCH_EVENTS
from hymy.timestamps import format_ts, utcnow
from kiosk import recovery
from kiosk.clock import ClockReading, SystemClock
from kiosk.config import DeviceConfig
from kiosk.store import SYNC_REQUESTED, Store
from kiosk.storeconfig import read_store_config, write_store_config
from sync import enrolment
from sync.backoff import BASE_S, CAP_S, Backoff, Failure
from sync.client import Client, gzip_body, parse_config
from sync.delivery import AUTH_RETRY_S, DeliveryPolicy, Step, Verdict, encode_batch
from sync.heartbeat import HEARTBEAT_S, build_heartbeat, cpu_temp_c, disk_free_mb
from sync.watch import POLL_S, ChangeWatcher

log = logging.getLogger("hymy.sync")
_T = TypeVar("_T")

#: What ``meta.enrolment`` says after a 401/403 (``hymy status`` and the maintenance screen show it).
REVOKED = "revoked: device not enrolled or revoked"
#: ``meta`` key holding the SHA-256 of the enrolment code the device enrolled with (never the code).
CODE_HASH_KEY = "enrolment_code_sha256"
#: Seconds between clock-sync checks (the kernel's adjtimex is cheap, but not free).
CLOCK_CHECK_S = 5.0
#: While draining successfully, ``last_sync`` is rewritten at most this often (seconds).
LAST_SYNC_EVERY_S = 1.0
#: Shortest gap between two batches that were not full (seconds): presses trickling in one by one are
#: gathered for up to half a second, so a busy kiosk stays well under the server's per-device rate limit
#: (120 requests/min by default) while a press still reaches the server within about a second.
#: A backlog (full batches) is sent back to back.
TRICKLE_GAP_S = 0.5
#: Most batches sent back to back (pipelined) in one loop turn, before the loop looks around again.
PIPELINE_BATCHES = 20


@dataclass
class DrainResult:
    """What ``Agent.drain`` did: events marked sent, quarantined, still pending, and the last error."""

    sent: int = 0
    quarantined: int = 0
    batches: int = 0
    pending: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.pending == 0 and self.error is None


class Agent:
    """Delivers one device's outbox. Build it with the device config; everything else is injectable.

    ``store`` (a ``kiosk.store.Store``) and ``client`` (a ``sync.client.Client``) default to the ones
    the config names; ``clock`` returns a ``ClockReading``; ``monotonic`` is seconds. ``max_events`` /
    ``max_bytes`` bound a batch (500 / 256 KiB); ``backoff_base_s`` / ``backoff_cap_s`` the full-jitter
    backoff (1 s / 300 s; a server that cannot be reached at all is retried on
    ``sync.backoff.UNREACHABLE_CAP_S``, 20 s, or ``backoff_cap_s`` if smaller); ``heartbeat_s`` the
    heartbeat and config-pull period (60 s); ``auth_retry_s`` how often a refused token is tried again (300 s); ``poll_s`` how often an idle
    agent looks for new presses (0.25 s); ``trickle_gap_s`` the shortest gap after a batch that was not
    full (0.5 s).
    """

    def __init__(self, config: DeviceConfig, *, store: Store | None = None, client: Client | None = None,
                 clock: Callable[[], ClockReading] | None = None, rand: Callable[[], float] = random.random,
                 monotonic: Callable[[], float] = time.monotonic,
                 max_events: int = MAX_BATCH_EVENTS, max_bytes: int = MAX_BATCH_BYTES,
                 backoff_base_s: float = BASE_S, backoff_cap_s: float = CAP_S,
                 heartbeat_s: float = HEARTBEAT_S, auth_retry_s: float = AUTH_RETRY_S, poll_s: float = POLL_S,
                 trickle_gap_s: float = TRICKLE_GAP_S):
        if not config.server.url and client is None:
            raise SyncError("server.url is not set in the device config; add [server] url = \"https://...\"")
        self.config = config
        self.store = store or Store(config.store_path)
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
        self._clock_was_synced: bool | None = None
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
            self.correct_clock()
        if now >= self._next_beat:
            self._next_beat = now + self.heartbeat_s
            if self.heartbeat():  # no config pull through a network that just failed the heartbeat
                self.pull_config()
            reading = self.clock()
            if reading.synced and self._clock_was_synced:  # a press recorded unsynced just as it synced
                self.store.correct_clock(reading.boot_id, reading.wall, reading.uptime_ms)
        if self._dirty and now >= self._next_send:
            if self.policy.unauthorized:
                self._load_token()  # a technician may have re-enrolled the device meanwhile
            steps = self.send(PIPELINE_BATCHES)
            step = steps[-1] if steps else None
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

    # ------------------------------------------------------------------ enrolment

    def _load_token(self) -> bool:
        """Use the stored token; False when there is none, or when the config holds a new enrolment code.

        A code whose hash matches the one we enrolled with is a leftover (a crash between writing the
        token and editing the config): it is removed. Any other code is a technician's new one (a
        re-enrolment, e.g. after a revocation): the caller enrols with it; if the server refuses it,
        the old token is used again.
        """
        token = enrolment.read_token(self.config.token_path)
        if token is None:
            return False
        code = self.config.server.enrolment_code
        if code and code != self._refused_code:
            if self.store.get_meta(CODE_HASH_KEY) == _code_hash(code):
                if self.config.source:
                    enrolment.remove_enrolment_code(self.config.source)
            else:
                return False
        self.client.set_token(token)
        return True

    def enrol(self) -> bool:
        """Enrol with ``server.enrolment_code`` (one attempt); True when the device now has a token."""
        code = self.config.server.enrolment_code
        if not code:
            self._set_enrolment("not enrolled")
            self._error("not enrolled: no device token and no server.enrolment_code in the device config")
            self._next_enrol = self.monotonic() + self.auth_retry_s
            return False
        try:
            answer = self.client.enroll(code, self.config.device.name)
        except NotEnrolled as exc:
            self._error(str(exc))
            if enrolment.read_token(self.config.token_path):  # a refused new code: keep the old token
                log.warning("keeping the existing device token; server.enrolment_code was refused")
                self._refused_code = code
                return self._load_token()
            self._set_enrolment(f"not enrolled: {exc}")
            self._next_enrol = self.monotonic() + self.auth_retry_s
            return False
        except SyncError as exc:
            self._error(f"enrolment: {exc}")
            kind = Failure.unreachable if isinstance(exc, ServerUnreachable) else Failure.server
            self._next_enrol = self.monotonic() + self.side_backoff.failure(getattr(exc, "retry_after", None), kind)
            return False
        self.side_backoff.success()
        enrolment.write_token(self.config.token_path, answer.token)
        self.client.set_token(answer.token)
        self.store.set_meta("device_id", answer.device_id)
        self.store.set_meta(CODE_HASH_KEY, _code_hash(code))
        self._set_enrolment("enrolled")
        self.policy.on_auth_ok()
        self._next_send = 0.0
        write_store_config(self.config.store_config_path, answer.config, None)
        log.info("enrolled as device %s of store %s", answer.device_id, answer.config.store_name)
        if self.config.source:
            enrolment.remove_enrolment_code(self.config.source)
        return True

    def _set_enrolment(self, value: str) -> None:
        if value != self._enrolment:
            self.store.set_meta("enrolment", value)
            self._enrolment = value

    def _unauthorized(self, error: str) -> None:
        if self._enrolment is None or not self._enrolment.startswith("revoked"):
            log.error("the server refused the device token: %s; stopping delivery, retrying every %.0f s",
                      error, self.auth_retry_s)
        status = re.search(r"HTTP (\d{3})", error)
        self._set_enrolment(f"{REVOKED} (HTTP {status.group(1)})" if status else REVOKED)
        self.policy.unauthorized = True
        later = self.monotonic() + self.auth_retry_s
        self._next_send = max(self._next_send, later)
        self._next_beat = max(self._next_beat, later)

    # ------------------------------------------------------------------ delivery

    def send_batch(self) -> Step | None:
        """Send the oldest unsent events as one batch and apply the answer; None when nothing is pending."""
        steps = self.send(1)
        return steps[-1] if steps else None

    def send(self, max_batches: int = 1) -> list[Step]:
        """Send up to ``max_batches`` batches, oldest events first; return the steps (empty: nothing pending).

        Stops after the first batch that was not delivered. While batches are delivered it pipelines:
        the next batch is read from the store while the server works on the current one, and posted
        (from a helper thread) while the current answer is made durable with ``mark_sent``. A batch is
        posted only after the previous one was answered ``delivered``, so events still go out in order.
        """
        if not self.client.has_token and not self._load_token():
            return []  # not enrolled: nothing can be sent (``tick``/``drain`` enrol first)
        events = self.store.unsent(self.policy.limit_events)
        if not events:
            if self._last_sync_ok is not True or self._ok_unwritten:
                self._write_last_sync(True, None, force=True)
            return []
        batch = self.policy.plan(events)
        full = self._last_batch_full = len(batch) < len(events) or len(batch) >= self.policy.limit_events
        pending = self._post_async(gzip_body(encode_batch(batch)))
        steps: list[Step] = []
        while True:
            upcoming = upcoming_data = None
            if full and len(steps) + 1 < max_batches:
                more = self.store.unsent(self.policy.limit_events, after_seq=batch[-1].seq)
                if more:
                    upcoming = self.policy.plan(more)
                    full = len(upcoming) < len(more) or len(upcoming) >= self.policy.limit_events
                    upcoming_data = gzip_body(encode_batch(upcoming))  # while the server works
            step = self.policy.on_outcome(batch, pending.result())
            if upcoming is not None and step.ok and step.wait_s == 0:
                pending = self._post_async(upcoming_data)
            else:
                upcoming = None
            self.apply(step)
            steps.append(step)
            if step.verdict is Verdict.unauthorized:
                self._unauthorized(step.error or "HTTP 401")
            elif step.ok:
                self._set_enrolment("enrolled")
            if upcoming is None:
                if steps[-1].ok:
                    self._last_batch_full = full
                return steps
            batch = upcoming

    def _post_async(self, data: bytes) -> Future:
        """Post a gzip'd batch body from the helper thread."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hymy-sync-post")
        return self._pool.submit(self.client.post_gzipped, data)

    def apply(self, step: Step) -> None:
        """Make one step's verdict durable: mark sent, quarantine, record ``last_sync``."""
        if step.mark_sent:
            self.store.mark_sent(step.mark_sent)
        for event_id, reason in step.quarantine:
            log.warning("event %s quarantined: %s", event_id, reason)
            self.store.quarantine(event_id, reason)
        if step.ok or step.verdict is Verdict.delivered:
            self._last_success_at = format_ts(utcnow())
        if step.error and step.verdict in (Verdict.too_large, Verdict.refused) and not step.quarantine:
            log.info("%s", step.error)  # halving: not a failure the technician must see
            return
        if step.error:
            self._error(step.error)
        else:
            self.last_error = None
        self._write_last_sync(step.error is None, step.error)

    def drain(self, max_batches: int | None = None) -> DrainResult:
        """Send batches until the outbox is empty or an attempt fails (``hymy sync --once``, tests).

        Halving after 413 and quarantining go on without waiting; a transient failure ends the drain
        with ``error`` set (nothing is lost: the events stay unsent).
        """
        result = DrainResult()
        if not self.client.has_token and not self._load_token() and not self.enrol():
            result.error = self.last_error
            result.pending = self.store.pending_count()
            return result
        self.correct_clock()
        while max_batches is None or result.batches < max_batches:
            steps = self.send(PIPELINE_BATCHES if max_batches is None else max_batches - result.batches)
            if not steps:
                break
            result.batches += len(steps)
            result.sent += sum(len(s.mark_sent) for s in steps)
            result.quarantined += sum(len(s.quarantine) for s in steps)
            if steps[-1].verdict in (Verdict.retry, Verdict.unauthorized):
                result.error = steps[-1].error
                break
        result.pending = self.store.pending_count()
        return result

    def once(self) -> DrainResult:
        """Everything a sync does, once: enrol if needed, pull config, drain the outbox, heartbeat."""
        result = self.drain(max_batches=0)
        if result.error:
            return result
        self.pull_config()
        result = self.drain()
        self.heartbeat()
        return result

    # ------------------------------------------------------------------ heartbeat, config, clock

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


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


def _loads(text: str | None) -> dict | None:
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
