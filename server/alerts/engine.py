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

from hymy.protocol import StoreConfig
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
        try:
            self.evaluate_stores(store_ids)
        except Exception:
            log.exception("alert evaluation failed for stores %s", ", ".join(sorted(set(store_ids))))

    def evaluate_store(self, store_id: str, now: datetime | None = None) -> list[AlertNotice]:
        """Evaluate every rule of ``store_id`` at ``now`` (None: the clock when each step runs); return
        the notices sent (fired/cleared). An error is raised."""
        return self.evaluate_stores([store_id], now, strict=True)

    def evaluate_stores(self, store_ids: Iterable[str], now: datetime | None = None,
                        strict: bool = False) -> list[AlertNotice]:
        """Evaluate every rule of each store of ``store_ids`` at ``now`` (None: the clock when each step
        runs); return the notices sent (fired/cleared). An error of one store is logged and the others go
        on (``strict``: raised).

        Reads without a write lock or a transaction, straight on the driver, for all the stores at once:
        their configs (made from the cache), their open episodes, and the recent presses of those with
        rules: three reads however many stores. Only a store where some episode must open or close is
        evaluated again, at the time it then holds the lock, inside a write transaction.
        """
        ids = sorted(set(store_ids))
        if not ids:
            return []
        at = now or self.clock()
        texts = source.configs_of(self.engine, ids)
        opened = source.open_rule_ids_of(self.engine, ids)
        configs: dict[str, StoreConfig] = {}
        out: list[AlertNotice] = []
        for store_id in ids:
            try:
                if store_id in texts:
                    configs[store_id] = source.config_from(*texts[store_id])
            except Exception:
                if strict:
                    raise
                log.exception("alert evaluation failed for store %s", store_id)
        recent = source.recent_responses_of(self.engine, {sid: at - longest_window(cfg.alert_rules)
                                                          for sid, cfg in configs.items() if cfg.alert_rules})
        for store_id in ids:
            if store_id in texts and store_id not in configs:
                continue  # its config could not be made: logged above
            try:
                if changes(configs.get(store_id), opened.get(store_id, set()), recent.get(store_id), at):
                    out += self._apply(store_id, now)
            except Exception:
                if strict:
                    raise
                log.exception("alert evaluation failed for store %s", store_id)
        return out

    def _apply(self, store_id: str, now: datetime | None) -> list[AlertNotice]:
        """Evaluate the store again inside a write transaction and open or close its episodes; the notices."""
        with self._eval_lock, writing(self.engine) as conn:
            at = now or self.clock()
            cfg = source.shared_config(self.engine, store_id)
            open_rows = {r.rule_id: r for r in conn.execute(
                select(alert_episodes).where(alert_episodes.c.store_id == store_id,
                                             alert_episodes.c.cleared_at.is_(None)))}
            rules = cfg.alert_rules if cfg else []
            recent = source.recent_responses(self.engine, store_id, at - longest_window(rules)) if rules else None
            name = cfg.store_name if cfg else store_id
            notices = []
            for tr, rule, ev in changes(cfg, open_rows, recent, at):
                if tr is Transition.fired:
                    notices.append(self._open(conn, store_id, name, rule, ev))
                else:
                    rule_id = rule if ev is None else rule.id
                    notices.append(self._clear(conn, open_rows[rule_id], name,
                                               "rule removed" if ev is None else ev.describe(), at))
            notices = [n for n in notices if n is not None]
            queued = [self.outbox.enqueue(conn, n, at) for n in notices]
        for outbox_id in queued:
            self.outbox.dispatch(outbox_id)
        return notices

    def sweep(self, now: datetime | None = None) -> list[AlertNotice]:
        """Re-evaluate stores with presses inside their longest window or with an open episode, at the
        time it runs (unless ``now`` is given): after a slow ``recover`` an older time would miss the
        newest presses and clear an episode a batch has just opened."""
        self.outbox.recover(now)
        with self.engine.connect() as conn:
            open_stores = set(conn.execute(
                select(alert_episodes.c.store_id).where(alert_episodes.c.cleared_at.is_(None)).distinct()
            ).scalars())
            active = source.stores_with_rules_and_recent_presses(conn, now or self.clock())
        return self.evaluate_stores(open_stores | active, now)

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

def changes(cfg: StoreConfig | None, open_ids: Iterable[str], recent: source.Recent | None,
            now: datetime) -> list[tuple[Transition, object, Evaluation | None]]:
    """What changes at ``now`` (pure): ``(Transition.fired | cleared, rule, its evaluation)`` for each rule
    of ``cfg`` whose episode opens or closes, given the rule ids with an open episode and the store's
    ``recent`` responses (:func:`source.recent_responses` over its longest window), and ``(cleared, rule
    id, None)`` for an open episode whose rule is gone (or the store: ``cfg`` None)."""
    rules = list(cfg.alert_rules) if cfg else []
    out: list[tuple[Transition, object, Evaluation | None]] = []
    if rules:
        rows, voided = recent or ([], set())
        presses = counted_presses(rows, voided, hours=cfg.opening_hours, tz=cfg.timezone)
        for rule in rules:
            ev = evaluate(rule, presses, now, hours=cfg.opening_hours, tz=cfg.timezone)
            _, tr = step(EpisodeState(active=rule.id in open_ids), ev)
            if tr is not None:
                out.append((tr, rule, ev))
    known = {r.id for r in rules}
    out += [(Transition.cleared, rule_id, None) for rule_id in open_ids if rule_id not in known]
    return out


def episode_status(row) -> str:
    """``open`` (condition holds, nobody took it), ``acknowledged`` or ``cleared`` (closed by itself)."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k, None))
    if get("acknowledged_at"):
        return "acknowledged"
    if get("cleared_at"):
        return "cleared"
    return "open"
