"""The figures of a store's daily or weekly report, read through the server's rollup queries
(``server.results``): O(days) rows, never a scan of raw presses. The report speaks the store's first
language (``server.alerts.language.store_language``): so do the labels of reasons and praise from
the store's config and the weekday names; comments come from the follow-ups (deleted ones skipped).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hymy.hours import is_open
from hymy.protocol import StoreConfig
from hymy.timestamps import parse_ts
from server import results
from server import tables as t
from server.alerts.language import day as local_day
from server.alerts.language import store_language
from server.alerts.source import store_config
from server.reports.render import ChartRow, ReportData

__all__ = ["daily", "weekly", "store_config"]

#: Most comments listed in one report.
MAX_COMMENTS = 20
#: Most reasons / praise lines listed.
MAX_LINES = 5


def _labels(cfg: StoreConfig, kind: str) -> dict[str, str]:
    lang = store_language(cfg)
    items = cfg.reasons if kind == "reason" else cfg.praise
    return {r.id: r.texts.get(lang) for r in items}


def _followups(conn: Connection, cfg: StoreConfig, store_id: str, start: date, end: date):
    counts = results.followup_counts(conn, [store_id], start, end)
    out = {}
    for kind in ("reason", "praise"):
        labels = _labels(cfg, kind)
        rows = [r for r in counts if r["kind"] == kind]
        rows.sort(key=lambda r: (-r["n"], r["value"]))
        out[kind] = [(labels.get(r["value"], r["value"]), r["n"]) for r in rows[:MAX_LINES]]
    f = t.followups.c
    comments = conn.execute(
        select(f.value).where(f.store_id == store_id, f.kind == "comment", f.deleted_at.is_(None),
                              f.value.is_not(None), f.local_date >= start.isoformat(),
                              f.local_date <= end.isoformat())
        .order_by(f.pressed_at.desc()).limit(MAX_COMMENTS)
    ).scalars().all()
    return out["reason"], out["praise"], list(comments)


def _counts(fig: dict) -> dict[int, int]:
    return {int(m): int(n) for m, n in fig["counts"].items() if n}


def _require(conn: Connection, store_id: str) -> StoreConfig:
    cfg = store_config(conn, store_id)
    if cfg is None:
        raise LookupError(f"store {store_id!r} does not exist")
    return cfg


def daily(conn: Connection, store_id: str, day: date, *, url: str | None = None) -> ReportData:
    """The report of local date ``day``: hours with presses or open hours make the chart."""
    cfg = _require(conn, store_id)
    hours = results.hourly(conn, store_id, cfg.timezone, day)
    rows = []
    for h in hours:
        n = sum(h["counts"].values())
        if n or (cfg.opening_hours and is_open(cfg.opening_hours, cfg.timezone, parse_ts(h["hour_utc"]))):
            rows.append(ChartRow(h["hour"][11:16], _counts(h)))
    day_fig = results.daily(conn, [store_id], day, day)[0]
    reasons, praise, comments = _followups(conn, cfg, store_id, day, day)
    return ReportData(
        store_id=store_id, store_name=cfg.store_name, timezone=cfg.timezone, period="daily", start=day, end=day,
        scale=cfg.question.scale, counts=_counts(day_fig), rows=rows, reasons=reasons, praise=praise,
        comments=comments, url=url, lang=store_language(cfg),
    )


def weekly(conn: Connection, store_id: str, monday: date, *, url: str | None = None) -> ReportData:
    """The report of the week starting ``monday`` (seven local dates): one chart row per day."""
    cfg = _require(conn, store_id)
    end = monday + timedelta(days=6)
    days = results.daily(conn, [store_id], monday, end)
    lang = store_language(cfg)
    rows = [ChartRow(local_day(date.fromisoformat(d["date"]), lang, "EEE dd.MM."), _counts(d)) for d in days]
    total = results.total(days)
    reasons, praise, comments = _followups(conn, cfg, store_id, monday, end)
    return ReportData(
        store_id=store_id, store_name=cfg.store_name, timezone=cfg.timezone, period="weekly", start=monday,
        end=end, scale=cfg.question.scale, counts=_counts(total), rows=rows, reasons=reasons, praise=praise,
        comments=comments, url=url, lang=lang,
    )
