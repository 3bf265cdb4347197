"""The devices page (technicians and admins): fleet health, add a device (one-time code + QR), revoke."""

from __future__ import annotations

from datetime import datetime

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from hymy.hours import zone
from hymy.timestamps import utcnow

from .. import i18n
from .deps import check_csrf, data, need_role, signed_in
from .htmlroute import page_router
from .qr import enrolment_qr_svg
from .web import Ctx, render

router = page_router()

#: A device not heard from for this long is shown as a warning, then as a problem (seconds).
STALE_WARN_S = 5 * 60
STALE_BAD_S = 60 * 60


def _ago(ctx: Ctx, at: datetime | None, now: datetime) -> str | None:
    if at is None:
        return None
    s = int((now - at).total_seconds())
    _ = ctx._
    if s < 90:
        return _("%(n)s s ago", n=max(s, 0))
    if s < 90 * 60:
        return _("%(n)s min ago", n=s // 60)
    if s < 48 * 3600:
        return _("%(n)s h ago", n=s // 3600)
    return _("%(n)s days ago", n=s // 86400)


def device_rows(ctx: Ctx, devices: list[dict], now: datetime) -> list[dict]:
    """Device facts -> what a card shows, with a health verdict (ok / warn / bad)."""
    _ = ctx._
    rows = []
    for dv in devices:
        last = dv.get("last_seen")
        age = None if last is None else (now - last).total_seconds()
        revoked = dv.get("revoked")
        if revoked:
            health, label = "bad", _("revoked")
        elif last is None:
            health, label = "warn", _("never seen")
        elif age > STALE_BAD_S or dv.get("quarantined"):
            health, label = "bad", _("offline") if age > STALE_BAD_S else _("check quarantine")
        elif age > STALE_WARN_S or (dv.get("pending") or 0) > 1000 or dv.get("clock_synced") is False:
            health, label = "warn", _("check")
        else:
            health, label = "ok", _("ok")
        disk = dv.get("disk_free_mb")
        temp = dv.get("cpu_temp_c")
        oldest = dv.get("oldest_pending_s")
        clock = dv.get("clock_synced")
        rows.append({
            "id": dv["id"], "name": dv.get("name"), "store": dv.get("store_name", ""), "health": health,
            "health_label": label, "last_seen": _ago(ctx, last, now), "version": dv.get("app_version"),
            "pending": dv.get("pending") or 0, "oldest_pending": _ago(ctx, now - _secs(oldest), now) if oldest else None,
            "quarantined": dv.get("quarantined") or 0,
            "clock": "–" if clock is None else (_("synced") if clock else _("not synced")),
            "disk": "–" if disk is None else f"{disk / 1024:.1f} GB" if disk >= 1024 else f"{disk:.0f} MB",
            "temp": "–" if temp is None else f"{temp:.0f} °C",
            "enrolment": _("revoked") if revoked else (_("enrolled") if dv.get("enrolled", True) else _("waiting")),
            "last_error": dv.get("last_error"), "can_revoke": not revoked,
        })
    return rows


def _secs(s: float):
    from datetime import timedelta

    return timedelta(seconds=s)


def _page(ctx: Ctx, enrolment: dict | None = None, status_code: int = 200):
    d = data(ctx.request)
    now = utcnow()
    return render(ctx, "devices.html", status_code=status_code, devices=device_rows(ctx, d.devices_for(ctx.user), now),
                  stores=d.device_stores_for(ctx.user), enrolment=enrolment, title=ctx._("Devices"))


@router.get("/devices", name="dash.devices", response_class=HTMLResponse)
def devices_page(request: Request):
    ctx = signed_in(request)
    need_role(ctx, "admin", "technician")
    return _page(ctx)


@router.post("/devices", name="dash.device_add", response_class=HTMLResponse)
def add_device(request: Request, store_id: str = Form(...), name: str = Form(""), csrf_token: str = Form("")):
    ctx = signed_in(request)
    check_csrf(ctx, csrf_token)
    need_role(ctx, "admin", "technician")
    d = data(request)
    stores = {s.id: s for s in d.device_stores_for(ctx.user)}
    if store_id not in stores:
        raise HTTPException(404, "store")
    code, expires = d.add_device(store_id, name.strip() or None)
    local = expires.astimezone(zone(stores[store_id].timezone))
    enrolment = {"store": stores[store_id].name, "code": code,
                 "expires": i18n.format_day_time(local, ctx.lang),
                 "qr": enrolment_qr_svg(code, title=ctx._("One-time enrolment code"))}
    return _page(ctx, enrolment, status_code=201)


@router.post("/devices/{device_id}/revoke", name="dash.device_revoke", response_class=HTMLResponse)
def revoke_device(request: Request, device_id: str, csrf_token: str = Form("")):
    ctx = signed_in(request)
    check_csrf(ctx, csrf_token)
    need_role(ctx, "admin", "technician")
    d = data(request)
    if device_id not in {dv["id"] for dv in d.devices_for(ctx.user)}:
        raise HTTPException(404, "device")
    d.revoke_device(device_id)
    return _page(ctx)
