"""The alerts page: the stores' alert episodes (open first), acknowledged with an optional comment.

Reads the alerts helper's tables and acknowledges through its service (``app.state.alerts``), so the
dashboard and the JSON API (``/api/v1/alerts``) close an alert the same way and notify the same channels.
"""

from __future__ import annotations

import json

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from hymy.hours import zone
from hymy.rules import RULE_KINDS
from hymy.timestamps import parse_ts

from .. import i18n
from ..alerts.tables import alert_comments
from ..alerts.tables import alert_episodes as ep
from .deps import check_csrf, data, need_results, results_reader, signed_in
from .htmlroute import page_router
from .web import Ctx, redirect, render

router = page_router()


def _service(request: Request):
    svc = getattr(request.app.state, "alerts", None)
    if svc is None:
        raise HTTPException(404, "alerts")
    return svc


def _when(ctx: Ctx, ts: str | None, tz: str) -> str:
    if not ts:
        return ""
    local = parse_ts(ts).astimezone(zone(tz))
    return i18n.format_day(local.date(), ctx.lang) + local.strftime(" %H:%M")


def open_alerts(request: Request, store_ids: list[str]) -> dict[str, int]:
    """Per store, how many of its alerts nobody has taken yet and that have not cleared (stores without
    any are absent; empty without the alerts service)."""
    svc = getattr(request.app.state, "alerts", None)
    if svc is None or not store_ids:
        return {}
    with svc.engine.connect() as conn:
        return {sid: int(n) for sid, n in conn.execute(
            select(ep.c.store_id, func.count()).where(ep.c.store_id.in_(store_ids), ep.c.acknowledged_at.is_(None),
                                                     ep.c.cleared_at.is_(None)).group_by(ep.c.store_id))}


def _comments(conn, episode_ids: list[int]) -> dict[int, list]:
    """Each episode's comments (the acknowledgement's and later ones), oldest first."""
    out: dict[int, list] = {}
    if episode_ids:
        for row in conn.execute(select(alert_comments).where(alert_comments.c.episode_id.in_(episode_ids))
                                .order_by(alert_comments.c.created_at, alert_comments.c.id)):
            out.setdefault(row.episode_id, []).append(row)
    return out


def summary(ctx: Ctx, row) -> str:
    """The alert in the reader's language from its kind's short line (``hymy.rules.RuleKind.summary``),
    its value and its rule; the stored text otherwise."""
    kind = RULE_KINDS.get(row.kind)
    if kind is None or row.value is None:
        return row.summary
    try:
        rule = json.loads(row.rule_json)
        return ctx._(kind.summary, v=round(row.value), n=row.n, w=rule.get("window_min"),
                     t=round(rule.get("threshold")), m=rule.get("mood"))
    except (ValueError, TypeError, KeyError):
        return row.summary


@router.get("/alerts", name="dash.alerts", response_class=HTMLResponse)
def alerts_page(request: Request):
    ctx = results_reader(request)
    from ..alerts.engine import episode_status

    stores = {s.id: s for s in data(request).stores_for(ctx.user)}
    rows, comments = [], {}
    if stores:
        with _service(request).engine.connect() as conn:
            rows = conn.execute(select(ep).where(ep.c.store_id.in_(list(stores)))
                                .order_by(ep.c.fired_at.desc(), ep.c.id.desc()).limit(100)).all()
            comments = _comments(conn, [r.id for r in rows])
    _ = ctx._
    labels = {"open": _("open"), "acknowledged": _("acknowledged"), "cleared": _("cleared")}
    items = []
    for r in rows:
        s = stores[r.store_id]
        status = episode_status(r)
        items.append({"id": r.id, "store": s.name, "summary": summary(ctx, r), "status": status,
                      "status_label": labels[status], "fired": _when(ctx, r.fired_at, s.timezone),
                      "by": r.acknowledged_by, "acked": _when(ctx, r.acknowledged_at, s.timezone),
                      "cleared": _when(ctx, r.cleared_at, s.timezone), "n": r.n,
                      "comments": [{"by": c.author or "", "when": _when(ctx, c.created_at, s.timezone), "text": c.body}
                                   for c in comments.get(r.id, [])]})
    items.sort(key=lambda a: a["status"] != "open")
    return render(ctx, "alerts.html", items=items, title=_("Alerts"))


@router.post("/alerts/{alert_id}/acknowledge", name="dash.alert_ack")
def acknowledge(request: Request, alert_id: int, comment: str = Form(""), csrf_token: str = Form("")):
    ctx = signed_in(request)
    check_csrf(ctx, csrf_token)
    need_results(ctx)
    svc = _service(request)
    with svc.engine.connect() as conn:
        store_id = conn.execute(select(ep.c.store_id).where(ep.c.id == alert_id)).scalar()
    if store_id is None or store_id not in {s.id for s in data(request).stores_for(ctx.user)}:
        raise HTTPException(404, "alert")
    svc.acknowledge(alert_id, ctx.user.display_name or ctx.user.username, comment.strip()[:500] or None)
    return redirect(ctx.url("alerts"))
