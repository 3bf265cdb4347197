"""Delivering alert notices: the durable outbox and the channels (webhook, e-mail).

A notice is written to ``alert_outbox`` in the same transaction as the episode change that made it
(:meth:`Outbox.enqueue`), then sent by whichever sender claims the row (pending -> sending, an UPDATE
only one can win) on a small thread pool, so a slow webhook never delays the next evaluation. A notice
whose process died before or while sending is taken over by a later sweep (:meth:`Outbox.recover`,
after ``PENDING_GRACE_S`` / ``STALE_AFTER_S``); the ``X-Hymy-Delivery`` id stays the same, so a
receiver can drop the rare duplicate of a notice that was in fact sent just before the crash.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from hymy.errors import DeliveryError
from hymy.timestamps import format_ts, utcnow
from server.alerts import language, source
from server.alerts.notice import AlertNotice, alert_mail, webhook_payload
from server.alerts.smtp import SmtpSettings, send_message
from server.alerts.tables import alert_channels, alert_deliveries, alert_outbox
from server.alerts.webhook import send_webhook
from server.db import writing

log = logging.getLogger(__name__)

#: An outbox notice still pending after this many seconds was never handed to a sender (its process
#: died between commit and dispatch): a sweep sends it.
PENDING_GRACE_S = 30.0
#: A notice claimed this many seconds ago and not finished belongs to a dead sender: send it again
#: (longer than any webhook retry sequence; receivers deduplicate on X-Hymy-Delivery).
STALE_AFTER_S = 600.0


def instance_name() -> str:
    """This server process, for claims and logs: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def split_addresses(text: str | None) -> list[str]:
    """``"a@x, b@y"`` -> ``["a@x", "b@y"]`` (commas, semicolons or whitespace)."""
    if not text:
        return []
    return [a for a in (p.strip() for p in text.replace(";", ",").replace("\n", ",").split(",")) if a]


class Outbox:
    """Queues, claims and sends notices.

    ``engine``: the server's; ``smtp``: SmtpSettings or None (no e-mail); ``clock``: aware UTC now;
    ``webhook_attempts``/``webhook_wait_s``: retry policy (``server.alerts.webhook``);
    ``asynchronous=False`` sends in the calling thread (tools, some tests);
    ``pending_grace_s``/``stale_after_s``: when :meth:`recover` takes over notices of a stopped process;
    ``instance``: this process's name in claims (default ``host:pid``).
    """

    def __init__(self, engine: Engine, *, smtp: SmtpSettings | None = None, clock: Callable[[], datetime] = utcnow,
                 webhook_attempts: int = 5, webhook_wait_s: float = 0.5, asynchronous: bool = True,
                 pending_grace_s: float = PENDING_GRACE_S, stale_after_s: float = STALE_AFTER_S,
                 instance: str | None = None):
        self.engine = engine
        self.smtp = smtp
        self.clock = clock
        self.webhook_attempts = webhook_attempts
        self.webhook_wait_s = webhook_wait_s
        self.asynchronous = asynchronous
        self.pending_grace_s = pending_grace_s
        self.stale_after_s = stale_after_s
        self.instance = instance or instance_name()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hymy-alert-send")

    def close(self, wait: bool = True) -> None:
        """Stop taking notices onto the pool; ``wait`` for those queued to be sent."""
        self._pool.shutdown(wait=wait)

    def enqueue(self, conn: Connection, notice: AlertNotice, now: datetime) -> int:
        """Put ``notice`` in the outbox, in the caller's transaction (with the episode change)."""
        return conn.execute(insert(alert_outbox).values(
            episode_id=notice.alert_id, event=notice.event, notice_json=json.dumps(notice.as_dict()),
            status="pending", created_at=format_ts(now),
        )).inserted_primary_key[0]

    def dispatch(self, outbox_id: int) -> None:
        """Send an outbox notice (on the pool unless ``asynchronous`` is False)."""
        if self.asynchronous:
            try:
                self._pool.submit(self.send, outbox_id)
                return
            except RuntimeError:  # pool shut down: send inline rather than wait for a sweep
                pass
        self.send(outbox_id)

    def send(self, outbox_id: int, *, stale_before: datetime | None = None) -> bool:
        """Claim outbox row ``outbox_id`` and send it; False when another sender has it.

        Normally only a ``pending`` row is claimed; with ``stale_before`` (a sweep recovering work of
        a process that died) also a row claimed before that instant and never finished.
        """
        o = alert_outbox.c
        claimable = o.status == "pending"
        if stale_before is not None:
            claimable = claimable | ((o.status == "sending") & (o.claimed_at <= format_ts(stale_before)))
        with writing(self.engine) as conn:
            got = conn.execute(
                update(alert_outbox).where(o.id == outbox_id, claimable)
                .values(status="sending", claimed_at=format_ts(self.clock()), claimed_by=self.instance,
                        tries=o.tries + 1)
            ).rowcount
            row = conn.execute(select(o.notice_json).where(o.id == outbox_id)).first() if got else None
        if row is None:
            return False
        try:
            self.deliver(AlertNotice.from_dict(json.loads(row.notice_json)))
        finally:
            with writing(self.engine) as conn:
                conn.execute(update(alert_outbox).where(o.id == outbox_id).values(status="done"))
        return True

    def recover(self, now: datetime | None = None) -> int:
        """Send notices a dead or stuck process left behind: pending longer than ``pending_grace_s``,
        or claimed longer ago than ``stale_after_s``. Returns how many this instance sent."""
        now = now or self.clock()
        o = alert_outbox.c
        pending_before = format_ts(now - timedelta(seconds=self.pending_grace_s))
        stale_before = now - timedelta(seconds=self.stale_after_s)
        with self.engine.connect() as conn:
            ids = conn.execute(select(o.id).where(
                ((o.status == "pending") & (o.created_at <= pending_before))
                | ((o.status == "sending") & (o.claimed_at <= format_ts(stale_before)))
            ).order_by(o.id).limit(100)).scalars().all()
        sent = 0
        for outbox_id in ids:
            try:
                sent += self.send(outbox_id, stale_before=stale_before)
            except Exception:
                log.exception("alert outbox %s: sending failed", outbox_id)
        if sent:
            log.warning("alert outbox: sent %d notice(s) left behind by a stopped process", sent)
        return sent

    def deliver(self, notice: AlertNotice) -> list[dict]:
        """Send now: webhook for every event, e-mail for ``alert.fired`` and ``alert.test``, in the
        store's language (``server.alerts.language.store_language``).
        Each attempt is recorded in ``alert_deliveries``; failures are logged, never raised."""
        with self.engine.connect() as conn:
            ch = conn.execute(select(alert_channels).where(alert_channels.c.store_id == notice.store_id)).first()
            cfg = source.store_config(conn, notice.store_id) if ch is not None else None
        results: list[dict] = []
        if ch is None:
            return results
        lang, tz = language.store_language(cfg), cfg.timezone if cfg else None
        if ch.webhook_url:
            rec = {"channel": "webhook", "target": ch.webhook_url, "attempts": 0, "error": None}
            try:
                d = send_webhook(ch.webhook_url, webhook_payload(notice, self.clock(), lang), ch.webhook_secret,
                                 event=notice.event, attempts=self.webhook_attempts, wait_s=self.webhook_wait_s,
                                 delivery_id=f"{notice.event}-{notice.alert_id}")
                rec.update(status="sent", attempts=d.attempts)
            except DeliveryError as exc:
                log.error("alert %s: %s", notice.alert_id, exc)
                rec.update(status="failed", error=str(exc), attempts=self.webhook_attempts)
            results.append(rec)
        to = split_addresses(ch.email_to)
        if to and notice.event in ("alert.fired", "alert.test"):
            rec = {"channel": "email", "target": ", ".join(to), "attempts": 1, "error": None}
            if self.smtp is None:
                rec.update(status="failed", error="e-mail not configured on the server (HYMY_SMTP_HOST)")
            else:
                try:
                    send_message(self.smtp, alert_mail(self.smtp, to, notice, lang, tz))
                    rec["status"] = "sent"
                except DeliveryError as exc:
                    log.error("alert %s: %s", notice.alert_id, exc)
                    rec.update(status="failed", error=str(exc))
            results.append(rec)
        if results:
            at = format_ts(self.clock())
            episode = notice.alert_id if notice.event != "alert.test" else None
            with writing(self.engine) as conn:
                conn.execute(insert(alert_deliveries), [
                    {"episode_id": episode, "event": notice.event, "at": at, **r} for r in results])
        return results
