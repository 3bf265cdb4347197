"""Sending the daily (and optional weekly) report after closing time, in each store's time zone.

``due_reports`` is pure: given the time and the stores, which reports are due. A day's report is due
``delay`` after the store last closes that local day (``hymy.hours.closing_time``; a store without
opening hours "closes" at local midnight); a closed day gets no report. The weekly report (Monday to
Sunday) is due after the Sunday's closing. Only yesterday and today are considered, so a server that
was down overnight catches up on the last day but never floods anyone with old reports.

``ReportScheduler.run_once`` runs in every server process (a periodic job of the app, every
``Settings.report_interval_s`` seconds, default 60; ``server.reports.install``). Before sending, an instance *claims* the report by inserting its
``(store, period, local date)`` row into ``report_sends``; the primary key lets exactly one
instance win, so several instances behind a load balancer send each report once. A claim whose send
failed is retried after ``retry_after`` (default 10 min) by whichever instance re-claims it first
(an UPDATE that only one can win).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hymy.errors import DeliveryError
from hymy.hours import OpeningHours, closing_time, zone
from hymy.timestamps import format_ts, utcnow
from server.alerts.outbox import instance_name, split_addresses
from server.alerts.smtp import SmtpSettings, send_message
from server.alerts.tables import alert_channels, report_sends
from server.db import writing
from server.reports import data as report_data
from server.reports.render import report_mail

log = logging.getLogger(__name__)

#: How long after closing a report is sent, by default (late presses still sync in).
DELAY = timedelta(minutes=15)
RETRY_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class StoreSchedule:
    store_id: str
    timezone: str
    opening_hours: OpeningHours | None
    daily: bool = True
    weekly: bool = False


@dataclass(frozen=True, slots=True)
class Due:
    store_id: str
    period: str  # daily | weekly
    local_date: date  # the day, or the Monday of the week


def send_after(s: StoreSchedule, day: date) -> datetime | None:
    """When ``day``'s report may go (before the delay): the store's last closing that local day,
    local midnight after it for a store without hours, None for a day it is closed."""
    tz = zone(s.timezone)
    if not s.opening_hours:
        return datetime.combine(day + timedelta(days=1), time(0), tz)
    return closing_time(s.opening_hours, tz, datetime.combine(day, time(12), tz))


def due_reports(now: datetime, stores: Iterable[StoreSchedule], delay: timedelta = DELAY) -> list[Due]:
    """Reports due at ``now`` (aware): at most yesterday's and today's daily, and last week's weekly."""
    out: list[Due] = []
    for s in stores:
        today = now.astimezone(zone(s.timezone)).date()
        if s.daily:
            for day in (today - timedelta(days=1), today):
                at = send_after(s, day)
                if at is not None and now >= at + delay:
                    out.append(Due(s.store_id, "daily", day))
        if s.weekly:
            monday = today - timedelta(days=today.weekday())
            for start in (monday - timedelta(days=7), monday):
                sunday = start + timedelta(days=6)
                at = send_after(s, sunday) or datetime.combine(sunday + timedelta(days=1), time(0), zone(s.timezone))
                if now >= at + delay:
                    out.append(Due(s.store_id, "weekly", start))
    return out


class ReportScheduler:
    """Claims and sends due reports. ``engine``: the server's; ``smtp``: SmtpSettings (None: the
    scheduler does nothing); ``base_url``: the dashboard's address for links; ``clock``: aware UTC now;
    ``delay``: after closing; ``retry_after``: when a failed or abandoned claim may be taken over."""

    def __init__(self, engine: Engine, smtp: SmtpSettings | None, *, base_url: str | None = None,
                 clock: Callable[[], datetime] = utcnow, delay: timedelta = DELAY,
                 retry_after: timedelta = RETRY_AFTER, instance: str | None = None):
        self.engine = engine
        self.smtp = smtp
        self.base_url = base_url.rstrip("/") if base_url else None
        self.clock = clock
        self.delay = delay
        self.retry_after = retry_after
        self.instance = instance or instance_name()

    def schedules(self) -> list[StoreSchedule]:
        """Stores with e-mail recipients and a report switched on."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(alert_channels).where(alert_channels.c.email_to.is_not(None))).all()
            out = []
            for r in rows:
                if not split_addresses(r.email_to) or not (r.daily_report or r.weekly_report):
                    continue
                cfg = report_data.store_config(conn, r.store_id)
                if cfg is None:
                    continue
                out.append(StoreSchedule(r.store_id, cfg.timezone, cfg.opening_hours,
                                         bool(r.daily_report), bool(r.weekly_report)))
        return out

    def run_once(self, now: datetime | None = None) -> list[Due]:
        """Send every due report this instance manages to claim; returns those sent.

        Each claim is stamped with the clock when it is made (unless ``now`` is given): sending the
        reports before it may take minutes, and a claim stamped earlier would look abandoned to
        another instance (``retry_after``), which would send the same report again.
        """
        if self.smtp is None:
            return []
        sent: list[Due] = []
        for due in due_reports(now or self.clock(), self.schedules(), self.delay):
            if not self._claim(due, now or self.clock()):
                continue
            try:
                self.send(due)
            except Exception as exc:  # a bad store must not stop the others
                log.error("report %s %s %s failed: %s", due.store_id, due.period, due.local_date, exc)
                self._finish(due, error=str(exc)[:1000])
                continue
            self._finish(due, sent_at=self.clock())
            sent.append(due)
        return sent

    def send(self, due: Due) -> None:
        """Build and send one report now (no claim): also what ``hymy`` tools may call."""
        with self.engine.connect() as conn:
            ch = conn.execute(select(alert_channels).where(alert_channels.c.store_id == due.store_id)).first()
            to = split_addresses(ch.email_to if ch else None)
            if not to:
                raise DeliveryError(f"report for store {due.store_id}: no e-mail recipients configured")
            if due.period == "weekly":
                data = report_data.weekly(conn, due.store_id, due.local_date, url=self._url(due, "trends"))
            else:
                data = report_data.daily(conn, due.store_id, due.local_date,
                                         url=self._url(due, f"day?date={due.local_date.isoformat()}"))
        send_message(self.smtp, report_mail(self.smtp, to, data))
        log.info("report %s %s %s sent to %d recipient(s)", due.store_id, due.period, due.local_date, len(to))

    def _url(self, due: Due, page: str) -> str | None:
        """The dashboard page of the report (day detail, or trends for a week), when the address is known."""
        return f"{self.base_url}/stores/{due.store_id}/{page}" if self.base_url else None

    def _claim(self, due: Due, now: datetime) -> bool:
        key = dict(store_id=due.store_id, period=due.period, local_date=due.local_date.isoformat())
        with writing(self.engine) as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(report_sends).values(**key, claimed_at=format_ts(now),
                                                             claimed_by=self.instance))
                return True
            except IntegrityError:
                pass
            # a failed (or abandoned) earlier claim may be taken over once it is old enough
            c = report_sends.c
            return conn.execute(
                update(report_sends)
                .where(c.store_id == due.store_id, c.period == due.period, c.local_date == key["local_date"],
                       c.sent_at.is_(None), c.claimed_at <= format_ts(now - self.retry_after))
                .values(claimed_at=format_ts(now), claimed_by=self.instance, error=None)
            ).rowcount == 1

    def _finish(self, due: Due, *, sent_at: datetime | None = None, error: str | None = None) -> None:
        c = report_sends.c
        with writing(self.engine) as conn:
            conn.execute(
                update(report_sends)
                .where(c.store_id == due.store_id, c.period == due.period,
                       c.local_date == due.local_date.isoformat())
                .values(sent_at=format_ts(sent_at) if sent_at else None, error=error)
            )
