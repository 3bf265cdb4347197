"""The figures of a store's daily or weekly report, read through the server's rollup queries
(``server.results``): O(days) rows, never a scan of raw presses. The report speaks the store's first
language (``server.alerts.language.store_language``): so do the labels of reasons and praise from
the store's config and the weekday names; comments come from the follow-ups (deleted ones skipped).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Connection

from hymy.hours import is_open
from hymy.protocol import StoreConfig
from hymy.timestamps import parse_ts
from server import results
from server.alerts.language import day as local_day
from server.alerts.language import store_language
from server.alerts.source import store_config
from server.reports.render import ChartRow, ReportData
from server.results import usual

__all__ = ["daily", "weekly", "store_config"]

#: Most comments listed in one report.
MAX_COMMENTS = 20
#: Most reasons / praise lines listed.
MAX_LINES = 5


def _followups(conn: Connection, cfg: StoreConfig, store_id: str, start: date, end: date):
    """The period's top reasons and praise as ``(label in the store's language, count)``, and its comments."""
    lang = store_language(cfg)
    out = {}
    for kind in ("reason", "praise"):
        labels = results.followup_names(conn, [store_id], kind, lang)
        counts = results.followup_counts(conn, [store_id], start, end, kind)[:MAX_LINES]
        out[kind] = [(labels.get(c.value, c.value), c.n) for c in counts]
    comments = results.comments(conn, [store_id], start, end, limit=MAX_COMMENTS)
    return out["reason"], out["praise"], [c.text for c in comments]


def _require(conn: Connection, store_id: str) -> StoreConfig:
    cfg = store_config(conn, store_id)
    if cfg is None:
        raise LookupError(f"store {store_id!r} does not exist")
    return cfg


def daily(conn: Connection, store_id: str, day: date, *, url: str | None = None) -> ReportData:
    """The report of local date ``day``: hours with presses or open hours make the chart, each hour and the
    day judged against their usual (``server.results.usual``, as the dashboard and the API judge them)."""
    cfg = _require(conn, store_id)
    rows = []
    buckets, verdicts = usual.hours_vs_usual(conn, store_id, cfg.timezone, day)
    for b, r in zip(buckets, verdicts, strict=True):
        if b.figure.n or (cfg.opening_hours and is_open(cfg.opening_hours, cfg.timezone, parse_ts(b.hour_utc))):
            rows.append(ChartRow(b.hour[11:16], b.figure.by_mood(), r.verdict))
    days, judged = usual.days_vs_usual(conn, [store_id], day, day, over_before=day + timedelta(days=1))
    reasons, praise, comments = _followups(conn, cfg, store_id, day, day)
    return ReportData(
        store_id=store_id, store_name=cfg.store_name, timezone=cfg.timezone, period="daily", start=day, end=day,
        scale=cfg.question.scale, counts=days[day].by_mood(), rows=rows, reasons=reasons, praise=praise,
        comments=comments, url=url, lang=store_language(cfg), judged=judged[day],
    )


def weekly(conn: Connection, store_id: str, monday: date, *, url: str | None = None) -> ReportData:
    """The report of the week starting ``monday`` (seven local dates): one chart row per day, each judged
    against its usual weekday (the week's days one family); the week against the 8 weeks before."""
    cfg = _require(conn, store_id)
    end = monday + timedelta(days=6)
    days, judged = usual.days_vs_usual(conn, [store_id], monday, end, over_before=end + timedelta(days=1))
    lang = store_language(cfg)
    rows = [ChartRow(local_day(d, lang, "EEE dd.MM."), f.by_mood(), judged[d].verdict) for d, f in days.items()]
    total, week = usual.week_vs_usual(conn, [store_id], monday)
    reasons, praise, comments = _followups(conn, cfg, store_id, monday, end)
    return ReportData(
        store_id=store_id, store_name=cfg.store_name, timezone=cfg.timezone, period="weekly", start=monday,
        end=end, scale=cfg.question.scale, counts=total.by_mood(), rows=rows, reasons=reasons, praise=praise,
        comments=comments, url=url, lang=lang, judged=week,
    )
