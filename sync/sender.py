"""The delivery loop of the sync agent: the oldest unsent events go out in batches, and each answer
is made durable (marked sent, quarantined, ``last_sync``) before the next batch is read.

What to do with an answer (halve after 413, quarantine a refused event, back off...) is decided by
the pure ``sync.delivery.DeliveryPolicy``; this module does the I/O around it. ``DeliverySteps`` is a
part of ``sync.agent.Agent``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hymy.timestamps import format_ts, utcnow
from sync.client import gzip_body
from sync.delivery import Step, Verdict, encode_batch

if TYPE_CHECKING:
    from kiosk.store.outbox import Outbox
    from sync.client import Client
    from sync.delivery import DeliveryPolicy

log = logging.getLogger("hymy.sync")

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


class DeliverySteps:
    """The delivery part of ``sync.agent.Agent`` (its only user), kept apart by concept.

    Works on the agent's outbox, client and policy (declared below; ``Agent.__init__`` sets them) and
    calls its enrolment steps and status reporting.
    """

    store: Outbox
    client: Client
    policy: DeliveryPolicy
    last_error: str | None
    #: Whether the last batch sent was full (a backlog: the next one goes at once).
    _last_batch_full: bool
    #: Where the batches are posted from while the next one is read (made on first use).
    _pool: ThreadPoolExecutor | None
    _last_success_at: str | None
    _last_sync_ok: bool | None
    _ok_unwritten: bool
    _load_token: Callable[[], bool]
    enrol: Callable[[], bool]
    correct_clock: Callable[[], int]
    _unauthorized: Callable[[str], None]
    _set_enrolment: Callable[[str], None]
    _error: Callable[[str], None]
    _write_last_sync: Callable[..., None]

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
