"""Alert evaluation on the server: after each ingested batch, and on a sweep timer.

``AlertService.on_ingested(engine, store_ids)`` is registered in the server's
``app.state.on_ingested`` hooks, which run right after a batch commits, off the request. It evaluates
every rule of those stores with ``hymy.rules`` (the kiosk's staff lamp runs the same code), opens an
episode when a rule becomes true, closes it when it stops being true, and hands the notice to its
:class:`~server.alerts.outbox.Outbox` (durable, sent on a small thread pool, so a slow webhook never
delays the next evaluation).

The sweep (:meth:`AlertService.sweep`, a periodic job of the app: every ``Settings.alert_sweep_s``
seconds, default 5) re-evaluates stores with recent presses or an open episode, because time alone
changes outcomes: presses age out of the window (an episode clears, or a share of unhappy presses rises
when happy ones leave) and stores close. It first sends notices a stopped process left in the outbox.

Once per episode across several instances: opening inserts a row guarded by the unique index
``alert_episodes_one_open`` (the loser of a race stays silent); clearing is an UPDATE of a still
open row (only the instance whose update changed it announces the clear).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hymy.rules import EpisodeState, Evaluation, Transition, counted_presses, evaluate, longest_window, step
from hymy.timestamps import format_ts, parse_ts, utcnow
from server.alerts import source
from server.alerts.notice import AlertNotice
from server.alerts.outbox import Outbox
from server.alerts.smtp import SmtpSettings
from server.alerts.tables import alert_comments, alert_episodes
from server.db import writing

log = logging.getLogger(__name__)


class AlertService:
    """Evaluates rules, keeps episodes, acknowledges, and hands notices to its ``outbox``.

    ``engine``: the server's SQLAlchemy engine; ``smtp``: SmtpSettings or None (no e-mail);
    ``base_url``: the dashboard's public address for links in notices (None: no links);
    ``clock``: callable returning aware UTC now. The other keywords (``webhook_attempts``,
    ``webhook_wait_s``, ``asynchronous``, ``pending_grace_s``, ``stale_after_s``, ``instance``) configure
    the :class:`~server.alerts.outbox.Outbox`.
    """

    def __init__(self, engine: Engine, *, smtp: SmtpSettings | None = None, base_url: str | None = None,
                 clock: Callable[[], datetime] = utcnow, **outbox):
        self.engine = engine
        self.base_url = base_url.rstrip("/") if base_url else None
        self.clock = clock
        self.outbox = Outbox(engine, smtp=smtp, clock=clock, **outbox)
        self._eval_lock = threading.Lock()

    def close(self, wait: bool = True) -> None:
        """Stop sending on the outbox's pool; ``wait`` for queued notices."""
        self.outbox.close(wait)

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

        Reads without a write lock or a transaction (straight on the driver, the config from its cache);
        only when some episode must open or close does it evaluate again, at the time it then holds the
        lock, inside a write transaction, so an ordinary ingest costs three reads.
        """
        if not self._transitions(None, store_id, now or self.clock()):
            return []
        with self._eval_lock, writing(self.engine) as conn:
            at = now or self.clock()
            notices = self._transitions(conn, store_id, at)
            queued = [self.outbox.enqueue(conn, n, at) for n in notices]
        for outbox_id in queued:
            self.outbox.dispatch(outbox_id)
        return notices

    def _transitions(self, conn: Connection | None, store_id: str, now: datetime) -> list:
        """What changes at ``now``: with ``conn`` (a write transaction) the notices, applied; without, the
        pending transitions only."""
        cfg = source.shared_config(self.engine, store_id)
        rules = list(cfg.alert_rules) if cfg else []
        if conn is None:
            open_rows = dict.fromkeys(source.open_rule_ids(self.engine, store_id))
        else:
            open_rows = {r.rule_id: r for r in conn.execute(
                select(alert_episodes).where(alert_episodes.c.store_id == store_id,
                                             alert_episodes.c.cleared_at.is_(None)))}
        if not rules and not open_rows:
            return []
        if rules:
            rows, voided = source.recent_responses(self.engine, store_id, now - longest_window(rules))
            presses = counted_presses(rows, voided, hours=cfg.opening_hours, tz=cfg.timezone)
        out: list = []
        for rule in rules:
            ev = evaluate(rule, presses, now, hours=cfg.opening_hours, tz=cfg.timezone)
            _, tr = step(EpisodeState(active=rule.id in open_rows), ev)
            if tr is None:
                continue
            if conn is None:
                out.append(tr)
            elif tr is Transition.fired:
                out.append(self._open(conn, store_id, cfg.store_name, rule, ev))
            else:
                out.append(self._clear(conn, open_rows[rule.id], cfg.store_name, ev.describe(), now))
        known = {r.id for r in rules}
        for rule_id, row in open_rows.items():
            if rule_id not in known:  # the rule was deleted or renamed: its episode ends
                if conn is None:
                    out.append(Transition.cleared)
                else:
                    out.append(self._clear(conn, row, cfg.store_name if cfg else store_id, "rule removed", now))
        return [n for n in out if n is not None]

    def sweep(self, now: datetime | None = None) -> list[AlertNotice]:
        """Re-evaluate stores with presses inside their longest window or with an open episode, each at
        the time it runs (unless ``now`` is given): after a slow ``recover`` an older time would miss the
        newest presses and clear an episode a batch has just opened."""
        self.outbox.recover(now)
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
            outbox_id = self.outbox.enqueue(conn, notice, now)
        self.outbox.dispatch(outbox_id)
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

def episode_status(row) -> str:
    """``open`` (condition holds, nobody took it), ``acknowledged`` or ``cleared`` (closed by itself)."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k, None))
    if get("acknowledged_at"):
        return "acknowledged"
    if get("cleared_at"):
        return "cleared"
    return "open"
