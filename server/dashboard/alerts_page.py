"""The alerts page: the stores' alert episodes (open first), acknowledged with an optional comment.

Reads the alerts helper's tables and acknowledges through its service (``app.state.alerts``), so the
dashboard and the JSON API (``/api/v1/alerts``) close an alert the same way and notify the same channels.
"""

from __future__ import annotations

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from hymy.hours import zone
from hymy.timestamps import parse_ts

from . import i18n
from .deps import check_csrf, data, need_results, results_reader, signed_in
from .routes import router
from .web import Ctx, redirect, render


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


def open_alerts(request: Request, store_ids: list[str]) -> int:
    """How many alerts of these stores nobody has taken yet and that have not cleared (0 without alerts)."""
    svc = getattr(request.app.state, "alerts", None)
    if svc is None or not store_ids:
        return 0
    from sqlalchemy import func

    from ..alerts.tables import alert_episodes as ep

    with svc.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ep).where(
            ep.c.store_id.in_(store_ids), ep.c.acknowledged_at.is_(None), ep.c.cleared_at.is_(None))).scalar() or 0)


def summary(ctx: Ctx, row) -> str:
    """The alert in the reader's language from its kind, value and rule; the stored text otherwise."""
    import json

    _ = ctx._
    try:
        rule = json.loads(row.rule_json)
        w, limit = rule.get("window_min"), rule.get("threshold")
        v = row.value
        if row.kind == "negative_share" and v is not None:
            return _("%(v)s %% of %(n)s presses unhappy in %(w)s min (limit %(t)s %%)", v=round(v), n=row.n, w=w,
                     t=round(limit))
        if row.kind == "index_below" and v is not None:
            return _("Happy Index %(v)s below %(t)s in %(w)s min (N %(n)s)", v=round(v), t=round(limit), w=w, n=row.n)
        if row.kind == "index_above" and v is not None:
            return _("Happy Index %(v)s above %(t)s in %(w)s min (N %(n)s)", v=round(v), t=round(limit), w=w, n=row.n)
        if row.kind == "face_count" and v is not None:
            return _("%(v)s presses of face %(m)s in %(w)s min (limit %(t)s)", v=round(v), m=rule.get("mood"), w=w,
                     t=round(limit))
    except (ValueError, TypeError, KeyError):
        pass
    return row.summary


@router.get("/alerts", name="dash.alerts", response_class=HTMLResponse)
def alerts_page(request: Request):
    ctx = results_reader(request)
    from ..alerts.engine import episode_status
    from ..alerts.tables import alert_episodes as ep

    stores = {s.id: s for s in data(request).stores_for(ctx.user)}
    rows = []
    if stores:
        with _service(request).engine.connect() as conn:
            rows = conn.execute(select(ep).where(ep.c.store_id.in_(list(stores)))
                                .order_by(ep.c.fired_at.desc(), ep.c.id.desc()).limit(100)).all()
    _ = ctx._
    labels = {"open": _("open"), "acknowledged": _("acknowledged"), "cleared": _("cleared")}
    items = []
    for r in rows:
        s = stores[r.store_id]
        status = episode_status(r)
        items.append({"id": r.id, "store": s.name, "summary": summary(ctx, r), "status": status,
                      "status_label": labels[status], "fired": _when(ctx, r.fired_at, s.timezone),
                      "by": r.acknowledged_by, "acked": _when(ctx, r.acknowledged_at, s.timezone),
                      "cleared": _when(ctx, r.cleared_at, s.timezone), "n": r.n})
    items.sort(key=lambda a: a["status"] != "open")
    return render(ctx, "alerts.html", items=items, title=_("Alerts"))


@router.post("/alerts/{alert_id}/acknowledge", name="dash.alert_ack")
def acknowledge(request: Request, alert_id: int, comment: str = Form(""), csrf_token: str = Form("")):
    ctx = signed_in(request)
    check_csrf(ctx, csrf_token)
    need_results(ctx)
    from ..alerts.tables import alert_episodes as ep

    svc = _service(request)
    with svc.engine.connect() as conn:
        store_id = conn.execute(select(ep.c.store_id).where(ep.c.id == alert_id)).scalar()
    if store_id is None or store_id not in {s.id for s in data(request).stores_for(ctx.user)}:
        raise HTTPException(404, "alert")
    svc.acknowledge(alert_id, ctx.user.display_name or ctx.user.username, comment.strip()[:500] or None)
    return redirect(ctx.url("alerts"))
