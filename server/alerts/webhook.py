"""Webhook channel: a signed JSON POST, retried with exponential backoff.

Signature (like Stripe's and Slack's request signing): the server sends

- ``X-Hymy-Timestamp``: Unix time in whole seconds when this attempt was signed,
- ``X-Hymy-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}." + body`` with the store's
  webhook secret as key,
- ``X-Hymy-Delivery``: one id per notice, the same on every retry (deduplicate on it),
- ``X-Hymy-Event``: ``alert.fired`` | ``alert.cleared`` | ``alert.acknowledged`` | ``alert.test``.

A receiver recomputes the HMAC over the raw body and compares in constant time, and refuses
timestamps older than a few minutes (replays). ``verify`` does exactly that; docs/alerts.md shows a
standalone snippet. Each retry is signed again with a fresh timestamp.

Retries: connection errors, timeouts, 408, 429 and 5xx are retried (``attempts`` tries in all,
waiting ``wait_s * 2**n`` seconds, at most ``max_wait_s``); other 4xx are final (the receiver
refused the message; trying again would not help).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from hymy import __version__
from hymy.errors import DeliveryError

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hymy-Signature"
TIMESTAMP_HEADER = "X-Hymy-Timestamp"
DELIVERY_HEADER = "X-Hymy-Delivery"
EVENT_HEADER = "X-Hymy-Event"
#: How old a signed timestamp ``verify`` accepts by default, in seconds.
TOLERANCE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``b"<timestamp>." + body`` keyed with ``secret`` (UTF-8)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes, *,
           tolerance_s: float = TOLERANCE_S, now: float | None = None) -> bool:
    """True when ``signature`` is ours for ``body`` at ``timestamp`` and the timestamp is within
    ``tolerance_s`` seconds of ``now`` (default: the current Unix time)."""
    if not timestamp or not signature:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of a delivered webhook: the final HTTP status and how many attempts it took."""

    url: str
    status: int
    attempts: int
    delivery_id: str


class _Retryable(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, (_Retryable, httpx.TransportError))


def send_webhook(url: str, payload: dict, secret: str | None, *, event: str = "alert.fired",
                 attempts: int = 5, wait_s: float = 0.5, max_wait_s: float = 30.0, timeout_s: float = 5.0,
                 delivery_id: str | None = None, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """POST ``payload`` as JSON to ``url``, signed with ``secret`` (unsigned when None or empty).

    Returns a Delivery on a 2xx answer; raises DeliveryError naming the URL after the last attempt
    or on a final refusal. ``timeout_s`` applies to each attempt (connect and read).
    """
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    delivery_id = delivery_id or str(uuid.uuid4())
    own = client is None
    http = client or httpx.Client(timeout=timeout_s)
    tries = 0

    def attempt() -> int:
        nonlocal tries
        tries += 1
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"Hymy/{__version__}",
            DELIVERY_HEADER: delivery_id,
            EVENT_HEADER: event,
        }
        if secret:
            ts = int(time.time())
            headers[TIMESTAMP_HEADER] = str(ts)
            headers[SIGNATURE_HEADER] = sign(secret, ts, body)
        resp = http.post(url, content=body, headers=headers, timeout=timeout_s)
        if resp.status_code in (408, 429) or resp.status_code >= 500:
            raise _Retryable(resp.status_code, resp.text[:200])
        if resp.status_code >= 300:
            raise DeliveryError(f"webhook {url}: refused with HTTP {resp.status_code}: {resp.text[:200]}")
        return resp.status_code

    try:
        retrying = Retrying(
            stop=stop_after_attempt(max(1, attempts)),
            wait=wait_exponential(multiplier=wait_s, max=max_wait_s),
            retry=retry_if_exception(_retryable),
            sleep=sleep,
            reraise=True,
        )
        status = retrying(attempt)
    except DeliveryError:
        raise
    except httpx.InvalidURL as exc:  # e.g. a host name IDNA refuses: no attempt can succeed
        raise DeliveryError(f"webhook {url}: not a usable URL: {exc}") from exc
    except (_Retryable, httpx.HTTPError, RetryError) as exc:
        raise DeliveryError(f"webhook {url}: failed after {tries} attempts: {exc}") from exc
    finally:
        if own:
            http.close()
    log.info("webhook %s delivered %s in %d attempt(s)", url, event, tries)
    return Delivery(url=url, status=status, attempts=tries, delivery_id=delivery_id)
