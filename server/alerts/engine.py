"""Alert evaluation on the server: after each ingested batch, and on a sweep timer.

``AlertService.on_ingested(engine, store_ids)`` is registered in the server's
``app.state.on_ingested`` hooks, which run right after a batch commits, off the request. It evaluates
every rule of those stores with ``hymy.rules`` (the kiosk's staff lamp runs the same code), opens an
episode when a rule becomes true, closes it when it stops being true, and hands the notice to the
channels on a small thread pool, so a slow webhook never delays the next evaluation.

The sweep (``start()``; every ``sweep_s`` seconds, default 5) re-evaluates stores with recent
presses or an open episode, because time alone changes outcomes: presses age out of the window (an
episode clears, or a share of unhappy presses rises when happy ones leave) and stores close.

Notices are durable: each is written to ``alert_outbox`` in the same transaction as the episode
change, then sent by whichever sender claims the row (pending -> sending, an UPDATE only one can win).
A notice whose process died before or while sending is taken over by a later sweep (after
``PENDING_GRACE_S`` / ``STALE_AFTER_S``); the ``X-Hymy-Delivery`` id stays the same, so a receiver
can drop the rare duplicate of a notice that was in fact sent just before the crash.

Once per episode across several instances: opening inserts a row guarded by the unique index
``alert_episodes_one_open`` (the loser of a race stays silent); clearing is an UPDATE of a still
open row (only the instance whose update changed it announces the clear).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hymy.errors import DeliveryError
from hymy.rules import EpisodeState, Evaluation, Transition, counted_presses, evaluate, longest_window, step
from hymy.timestamps import format_ts, parse_ts, utcnow
from server.alerts import language, source
from server.alerts.notice import AlertNotice, alert_mail, webhook_payload
from server.alerts.smtp import SmtpSettings, send_message
from server.alerts.tables import (
    alert_channels,
    alert_comments,
    alert_deliveries,
    alert_episodes,
    alert_outbox,
)
from server.alerts.webhook import send_webhook
from server.db import writing

log = logging.getLogger(__name__)

#: Seconds between sweeps (re-evaluation as time passes), by default.
SWEEP_S = 5.0
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


class AlertService:
    """Evaluates rules, keeps episodes, acknowledges, and notifies.

    ``engine``: the server's SQLAlchemy engine; ``smtp``: SmtpSettings or None (no e-mail);
    ``base_url``: the dashboard's public address for links in notices (None: no links);
    ``clock``: callable returning aware UTC now; ``sweep_s``: seconds between sweeps;
    ``webhook_attempts``/``webhook_wait_s``: retry policy (``server.alerts.webhook``).
    ``asynchronous=False`` sends notices in the calling thread (tools, some tests).
    ``pending_grace_s``/``stale_after_s``: when a sweep takes over notices of a stopped process.
    """

    def __init__(self, engine: Engine, *, smtp: SmtpSettings | None = None, base_url: str | None = None,
                 clock: Callable[[], datetime] = utcnow, sweep_s: float = SWEEP_S,
                 webhook_attempts: int = 5, webhook_wait_s: float = 0.5, asynchronous: bool = True,
                 pending_grace_s: float = PENDING_GRACE_S, stale_after_s: float = STALE_AFTER_S,
                 instance: str | None = None):
        self.engine = engine
        self.smtp = smtp
        self.base_url = base_url.rstrip("/") if base_url else None
        self.clock = clock
        self.sweep_s = sweep_s
        self.webhook_attempts = webhook_attempts
        self.webhook_wait_s = webhook_wait_s
        self.asynchronous = asynchronous
        self.pending_grace_s = pending_grace_s
        self.stale_after_s = stale_after_s
        self.instance = instance or instance_name()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hymy-alert-send")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._eval_lock = threading.Lock()

    # ------------------------------------------------------------------ evaluation

    def on_ingested(self, engine: Engine, store_ids: Iterable[str]) -> None:
        """The server's post-ingest hook: evaluate the stores that just received presses."""
        for store_id in sorted(set(store_ids)):
            try:
                self.evaluate_store(store_id)
            except Exception:
                log.exception("alert evaluation failed for store %s", store_id)

    def evaluate_store(self, store_id: str, now: datetime | None = None) -> list[AlertNotice]:
        """Evaluate every rule of ``store_id`` at ``now`` (None: the clock when each step runs); return
        the notices sent (fired/cleared).

        Reads without a write lock; only when some episode must open or close does it evaluate again,
        at the time it then holds the lock, inside a write transaction, so an ordinary ingest costs one read.
        """
        with self.engine.connect() as conn:
            if not self._transitions(conn, store_id, now or self.clock(), apply=False):
                return []
        with self._eval_lock, writing(self.engine) as conn:
            at = now or self.clock()
            notices = self._transitions(conn, store_id, at, apply=True)
            queued = [self._enqueue(conn, n, at) for n in notices]
        for outbox_id in queued:
            self.dispatch(outbox_id)
        return notices

    def _transitions(self, conn: Connection, store_id: str, now: datetime, *, apply: bool) -> list:
        """What changes at ``now``: a list of notices when ``apply``, else of pending transitions."""
        cfg = source.store_config(conn, store_id)
        rules = list(cfg.alert_rules) if cfg else []
        open_rows = {r.rule_id: r for r in conn.execute(
            select(alert_episodes).where(alert_episodes.c.store_id == store_id,
                                         alert_episodes.c.cleared_at.is_(None)))}
        if rules:
            rows, voided = source.recent_responses(conn, store_id, now - longest_window(rules))
            presses = counted_presses(rows, voided, hours=cfg.opening_hours, tz=cfg.timezone)
        out: list = []
        for rule in rules:
            ev = evaluate(rule, presses, now, hours=cfg.opening_hours, tz=cfg.timezone)
            _, tr = step(EpisodeState(active=rule.id in open_rows), ev)
            if tr is None:
                continue
            if not apply:
                out.append(tr)
            elif tr is Transition.fired:
                out.append(self._open(conn, store_id, cfg.store_name, rule, ev))
            else:
                out.append(self._clear(conn, open_rows[rule.id], cfg.store_name, ev.describe(), now))
        known = {r.id for r in rules}
        for rule_id, row in open_rows.items():
            if rule_id not in known:  # the rule was deleted or renamed: its episode ends
                if not apply:
                    out.append(Transition.cleared)
                else:
                    out.append(self._clear(conn, row, cfg.store_name if cfg else store_id, "rule removed", now))
        return [n for n in out if n is not None]

    def sweep(self, now: datetime | None = None) -> list[AlertNotice]:
        """Re-evaluate stores with presses inside their longest window or with an open episode, each at
        the time it runs (unless ``now`` is given): after a slow ``recover`` an older time would miss the
        newest presses and clear an episode a batch has just opened."""
        self.recover(now)
        with self.engine.connect() as conn:
            open_stores = set(conn.execute(
                select(alert_episodes.c.store_id).where(alert_episodes.c.cleared_at.is_(None)).distinct()
            ).scalars())
            active = source.stores_with_rules_and_recent_presses(conn, now or self.clock())
        out: list[AlertNotice] = []
        for store_id in sorted(open_stores | active):
            try:
                out += self.evaluate_store(store_id, now)
            except Exception:
                log.exception("alert sweep failed for store %s", store_id)
        return out

    def start(self) -> None:
        """Sweep every ``sweep_s`` seconds on a daemon thread until ``stop()``."""
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(self.sweep_s):
                try:
                    self.sweep()
                except Exception:
                    log.exception("alert sweep failed")

        self._thread = threading.Thread(target=run, name="hymy-alert-sweep", daemon=True)
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Stop sweeping and let queued notices finish (``wait``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._pool.shutdown(wait=wait)

    def _open(self, conn: Connection, store_id: str, store_name: str, rule, ev: Evaluation) -> AlertNotice | None:
        values = dict(
            store_id=store_id, rule_id=rule.id, kind=rule.kind, rule_json=rule.model_dump_json(),
            fired_at=format_ts(ev.at), n=ev.n, value=ev.value, summary=ev.describe(),
        )
        try:
            with conn.begin_nested():
                episode_id = conn.execute(insert(alert_episodes).values(**values)).inserted_primary_key[0]
        except IntegrityError:
            log.info("alert %s/%s already opened by another instance", store_id, rule.id)
            return None
        log.warning("alert fired: store %s rule %s: %s", store_id, rule.id, ev.describe())
        return self._notice("alert.fired", {**values, "id": episode_id}, store_name)

    def _clear(self, conn: Connection, row, store_name: str, why: str, now: datetime) -> AlertNotice | None:
        done = conn.execute(
            update(alert_episodes)
            .where(alert_episodes.c.id == row.id, alert_episodes.c.cleared_at.is_(None))
            .values(cleared_at=format_ts(now), clear_summary=why)
        ).rowcount
        if not done:
            return None
        log.info("alert cleared: store %s rule %s: %s", row.store_id, row.rule_id, why)
        data = dict(row._mapping) | {"cleared_at": format_ts(now)}
        return self._notice("alert.cleared", data, store_name, summary=why)

    def _notice(self, event: str, row: dict, store_name: str, *, summary: str | None = None,
                comment: str | None = None) -> AlertNotice:
        rule = json.loads(row["rule_json"])
        return AlertNotice(
            event=event, alert_id=int(row["id"]), store_id=row["store_id"], store_name=store_name,
            rule_id=row["rule_id"], kind=row["kind"], summary=summary or row["summary"],
            fired_at=parse_ts(row["fired_at"]), n=int(row["n"]), value=row["value"],
            threshold=float(rule.get("threshold", 0)), window_min=int(rule.get("window_min", 0)),
            status=episode_status(row),
            cleared_at=parse_ts(row["cleared_at"]) if row.get("cleared_at") else None,
            acknowledged_at=parse_ts(row["acknowledged_at"]) if row.get("acknowledged_at") else None,
            acknowledged_by=row.get("acknowledged_by"), comment=comment,
            url=f"{self.base_url}/alerts#alert-{row['id']}" if self.base_url else None,
        )

    # ------------------------------------------------------------------ people

    def acknowledge(self, episode_id: int, user: str, comment: str | None = None,
                    now: datetime | None = None) -> AlertNotice | None:
        """A manager takes the alert: it is closed for people (status ``acknowledged``) while the episode
        itself lasts until the condition clears, so a persisting condition does not fire again.
        Returns the notice sent, or None when it was already acknowledged; KeyError if unknown."""
        now = now or self.clock()
        with writing(self.engine) as conn:
            row = conn.execute(select(alert_episodes).where(alert_episodes.c.id == episode_id)).first()
            if row is None:
                raise KeyError(episode_id)
            done = conn.execute(
                update(alert_episodes)
                .where(alert_episodes.c.id == episode_id, alert_episodes.c.acknowledged_at.is_(None))
                .values(acknowledged_at=format_ts(now), acknowledged_by=user)
            ).rowcount
            if comment:
                self._comment(conn, episode_id, user, comment, now)
            if not done:
                return None
            cfg = source.store_config(conn, row.store_id)
            data = dict(row._mapping) | {"acknowledged_at": format_ts(now), "acknowledged_by": user}
            notice = self._notice("alert.acknowledged", data, cfg.store_name if cfg else row.store_id,
                                  comment=comment)
            outbox_id = self._enqueue(conn, notice, now)
        self.dispatch(outbox_id)
        return notice

    def comment(self, episode_id: int, user: str, body: str, now: datetime | None = None) -> int:
        """Add a comment to an alert; returns the comment id; KeyError if the alert is unknown."""
        with writing(self.engine) as conn:
            if conn.execute(select(alert_episodes.c.id).where(alert_episodes.c.id == episode_id)).first() is None:
                raise KeyError(episode_id)
            return self._comment(conn, episode_id, user, body, now or self.clock())

    @staticmethod
    def _comment(conn: Connection, episode_id: int, user: str, body: str, now: datetime) -> int:
        return conn.execute(insert(alert_comments).values(
            episode_id=episode_id, author=user, body=body.strip()[:2000], created_at=format_ts(now),
        )).inserted_primary_key[0]

    # ------------------------------------------------------------------ channels

    def _enqueue(self, conn: Connection, notice: AlertNotice, now: datetime) -> int:
        """Put ``notice`` in the outbox, in the caller's transaction (with the episode change)."""
        return conn.execute(insert(alert_outbox).values(
            episode_id=notice.alert_id, event=notice.event, notice_json=json.dumps(notice.as_dict()),
            status="pending", created_at=format_ts(now),
        )).inserted_primary_key[0]

    def dispatch(self, outbox_id: int) -> None:
        """Send an outbox notice (on the pool unless ``asynchronous`` is False)."""
        if self.asynchronous:
            try:
                self._pool.submit(self.send_outbox, outbox_id)
                return
            except RuntimeError:  # pool shut down: send inline rather than wait for a sweep
                pass
        self.send_outbox(outbox_id)

    def send_outbox(self, outbox_id: int, *, stale_before: datetime | None = None) -> bool:
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
                sent += self.send_outbox(outbox_id, stale_before=stale_before)
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


def episode_status(row) -> str:
    """``open`` (condition holds, nobody took it), ``acknowledged`` or ``cleared`` (closed by itself)."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k, None))
    if get("acknowledged_at"):
        return "acknowledged"
    if get("cleared_at"):
        return "cleared"
    return "open"
