"""The sync decision logic: what to send next, and what each answer of the server means.

Pure (imports nothing from requests or SQLite), so every rule tests in microseconds and the hypothesis
state machine can drive it. The agent (``sync.agent``) does the I/O: it reads unsent events from the
store, asks ``plan_batch`` which prefix to send, posts it through ``sync.client`` and hands the
``Outcome`` to ``DeliveryPolicy.on_outcome``, which returns a ``Step``: ids to mark sent, ids to
quarantine with their reason, and how long to wait.

Exactly-once effect over at-least-once delivery: an event is marked sent only when the server's answer
names it ``accepted`` or ``duplicate``. Anything else (no answer, a lost answer, an id missing from the
answer) leaves it unsent, so it is sent again and the server's idempotent ids make the repeat harmless.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from hymy.protocol import MAX_BATCH_BYTES, MAX_BATCH_EVENTS
from sync.backoff import Backoff, Failure

#: Bytes of ``{"events":[`` + ``]}`` around the comma-joined event bodies.
ENVELOPE_BYTES = len('{"events":[]}')
#: Seconds between tries while the server refuses the device token (401/403): slowly, 5 minutes.
AUTH_RETRY_S = 300.0
#: Successful batches in a row after which a halved batch limit may double again.
GROW_AFTER = 50


class Event(Protocol):
    """What the planner needs of a stored event (``kiosk.store.outbox.StoredEvent`` fits)."""

    id: str
    body: str


def body_bytes(event: Event) -> int:
    """Encoded size of one event's JSON body in bytes (UTF-8)."""
    body = event.body
    return len(body) if body.isascii() else len(body.encode("utf-8"))


def plan_batch(events: Sequence[Event], max_events: int = MAX_BATCH_EVENTS,
               max_bytes: int = MAX_BATCH_BYTES) -> list[Event]:
    """The longest prefix of ``events`` (oldest first) within ``max_events`` and ``max_bytes`` before gzip.

    Always at least one event when there is one, so an oversized event cannot block the outbox (the
    server then answers 413 and the event is quarantined).
    """
    out: list[Event] = []
    size = ENVELOPE_BYTES
    for event in events:
        if len(out) >= max_events:
            break
        extra = body_bytes(event) + (1 if out else 0)
        if out and size + extra > max_bytes:
            break
        out.append(event)
        size += extra
    return out


def encode_batch(events: Iterable[Event]) -> bytes:
    """The ``POST /api/v1/responses`` body from stored bodies (already protocol JSON), uncompressed."""
    return b'{"events":[' + ",".join(e.body for e in events).encode("utf-8") + b"]}"


class OutcomeKind(StrEnum):
    answered = "answered"  #: the server answered with an HTTP status (any)
    network = "network"  #: no usable answer after reaching the server: reset, read timeout, TLS failure
    unreachable = "unreachable"  #: the server was not reached: connection refused, name not resolved, connect timeout


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one request, as plain data.

    ``results`` is the parsed per-id answer of a 2xx (a list of ``{"id", "status", "reason"}`` dicts)
    or None when the body was missing or unreadable; ``retry_after`` is in seconds (already parsed);
    ``detail`` is a short human text (never the token).
    """

    kind: OutcomeKind
    status: int | None = None
    results: list[dict] | None = None
    retry_after: float | None = None
    detail: str = ""

    @classmethod
    def network_error(cls, detail: str, *, reached: bool = True) -> Outcome:
        """No usable answer; ``reached`` False when the request never got to the server (refused...)."""
        return cls(OutcomeKind.network if reached else OutcomeKind.unreachable, detail=detail)

    @property
    def failure(self) -> Failure:
        """The backoff class of this outcome when it is a failure (see ``sync.backoff``)."""
        return Failure.unreachable if self.kind is OutcomeKind.unreachable else Failure.server

    @classmethod
    def http(cls, status: int, results: list[dict] | None = None, retry_after: float | None = None,
             detail: str = "") -> Outcome:
        return cls(OutcomeKind.answered, status, results, retry_after, detail)


class Verdict(StrEnum):
    delivered = "delivered"  #: 2xx with a per-id answer
    retry = "retry"  #: transient: back off with full jitter (honouring Retry-After) and send again
    unauthorized = "unauthorized"  #: 401/403: stop sending, retry authorisation slowly
    too_large = "too_large"  #: 413: halve the batch
    refused = "refused"  #: 400/422 for the whole batch: halve until the bad event stands alone, quarantine it


def judge(outcome: Outcome) -> Verdict:
    """The verdict on one answer (or non-answer) of ``POST /api/v1/responses``."""
    if outcome.kind is not OutcomeKind.answered:
        return Verdict.retry
    status = outcome.status or 0
    if 200 <= status < 300:
        return Verdict.delivered if outcome.results is not None else Verdict.retry
    if status in (401, 403):
        return Verdict.unauthorized
    if status == 413:
        return Verdict.too_large
    if status in (400, 422):
        return Verdict.refused
    # 5xx, 429, 408 and anything unexpected (404 from a misconfigured proxy...): transient; never
    # quarantine events because of a status that does not speak about their content.
    return Verdict.retry


@dataclass(frozen=True, slots=True)
class Settlement:
    """The per-id answer of a delivered batch, sorted into what the store must do."""

    sent: list[str] = field(default_factory=list)  #: accepted or duplicate: mark sent
    quarantined: list[tuple[str, str]] = field(default_factory=list)  #: (id, reason): quarantine
    unanswered: list[str] = field(default_factory=list)  #: in the batch, not in the answer: send again
    unknown: list[str] = field(default_factory=list)  #: answered ids we never sent (ignored)


def settle(batch_ids: Sequence[str], results: Iterable[dict]) -> Settlement:
    """Sort the server's per-id results for a batch of ``batch_ids``.

    A status other than accepted/duplicate/rejected leaves the event unsent (it is sent again).
    If an id appears twice, a delivered answer wins over a rejection.
    """
    wanted = set(batch_ids)
    sent: dict[str, None] = {}
    rejected: dict[str, str] = {}
    unknown: list[str] = []
    for item in results:
        rid = item.get("id")
        if rid not in wanted:
            unknown.append(str(rid))
            continue
        status = item.get("status")
        if status in ("accepted", "duplicate"):
            sent[rid] = None
            rejected.pop(rid, None)
        elif status == "rejected" and rid not in sent:
            rejected[rid] = str(item.get("reason") or "rejected by the server (no reason given)")
    unanswered = [i for i in batch_ids if i not in sent and i not in rejected]
    return Settlement(
        sent=[i for i in batch_ids if i in sent],
        quarantined=[(i, rejected[i]) for i in batch_ids if i in rejected],
        unanswered=unanswered,
        unknown=unknown,
    )


@dataclass(frozen=True, slots=True)
class Step:
    """What the agent does after one attempt."""

    verdict: Verdict
    mark_sent: list[str] = field(default_factory=list)
    quarantine: list[tuple[str, str]] = field(default_factory=list)
    #: Seconds to wait before the next POST (0: go on at once when more is pending).
    wait_s: float = 0.0
    #: A short error for ``last_sync`` / the heartbeat; None on success.
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.delivered and self.error is None


class DeliveryPolicy:
    """The delivery state between attempts: backoff, the (possibly halved) batch limit, authorisation.

    ``max_events`` / ``max_bytes`` are the normal limits (500 events, 256 KiB). ``rand`` feeds the jitter.
    Restarting the agent makes a fresh policy; nothing here needs to survive a crash, because the
    store's ``sent_at`` is the only truth about what was delivered.
    """

    def __init__(self, max_events: int = MAX_BATCH_EVENTS, max_bytes: int = MAX_BATCH_BYTES, *,
                 rand: Callable[[], float] = random.random, auth_retry_s: float = AUTH_RETRY_S):
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.limit_events = max_events
        self.limit_bytes = max_bytes
        self.backoff = Backoff(rand=rand)
        self.rand = rand
        self.auth_retry_s = auth_retry_s
        self.unauthorized = False
        self._good_in_a_row = 0

    def plan(self, events: Sequence[Event]) -> list[Event]:
        """The next batch out of the oldest unsent ``events`` under the current limits."""
        return plan_batch(events, self.limit_events, self.limit_bytes)

    def on_outcome(self, batch: Sequence[Event] | Sequence[str], outcome: Outcome) -> Step:
        """Digest one attempt at sending ``batch`` (events or their ids)."""
        ids = [b if isinstance(b, str) else b.id for b in batch]
        verdict = judge(outcome)
        if verdict is Verdict.delivered:
            return self._delivered(ids, outcome)
        self._good_in_a_row = 0
        what = _describe(outcome)
        if verdict is Verdict.unauthorized:
            self.unauthorized = True
            # slow, with a little jitter so a revoked fleet does not knock in step
            wait = self.auth_retry_s * (0.8 + 0.4 * self.rand())
            return Step(verdict, wait_s=wait, error=f"device not enrolled or revoked ({what})")
        self.unauthorized = False
        if verdict in (Verdict.too_large, Verdict.refused):
            if len(ids) <= 1:
                reason = f"the server refused this event alone ({what})"
                return Step(verdict, quarantine=[(i, reason) for i in ids], error=reason)
            self.limit_events = max(1, len(ids) // 2)
            self.limit_bytes = max(1024, self.limit_bytes // 2) if verdict is Verdict.too_large else self.limit_bytes
            return Step(verdict, wait_s=0.0, error=f"batch of {len(ids)} refused ({what}); halving to "
                                                    f"{self.limit_events}")
        return Step(verdict, wait_s=self.backoff.failure(outcome.retry_after, outcome.failure), error=what)

    def _delivered(self, ids: list[str], outcome: Outcome) -> Step:
        self.unauthorized = False
        settlement = settle(ids, outcome.results or [])
        if settlement.unanswered:
            # the server answered, but not for every event: treat as a partial failure and back off,
            # so a server that never names an id cannot make us spin
            wait = self.backoff.failure(outcome.retry_after)
            self._good_in_a_row = 0
            return Step(Verdict.retry, settlement.sent, settlement.quarantined, wait,
                        f"the server did not answer for {len(settlement.unanswered)} of {len(ids)} events")
        self.backoff.success()
        self._good_in_a_row += 1
        if self._good_in_a_row >= GROW_AFTER and (self.limit_events < self.max_events
                                                   or self.limit_bytes < self.max_bytes):
            self.limit_events = min(self.max_events, self.limit_events * 2)
            self.limit_bytes = min(self.max_bytes, self.limit_bytes * 2)
            self._good_in_a_row = 0
        return Step(Verdict.delivered, settlement.sent, settlement.quarantined, 0.0, None)

    def on_auth_ok(self) -> None:
        """Authorisation works again (an answer other than 401/403, or a new token)."""
        self.unauthorized = False


def _describe(outcome: Outcome) -> str:
    if outcome.kind is not OutcomeKind.answered:
        return outcome.detail or "no answer from the server"
    text = f"HTTP {outcome.status}"
    return f"{text}: {outcome.detail}" if outcome.detail else text
