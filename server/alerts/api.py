"""The alerts JSON API the dashboard (and integrations) use: list, detail, acknowledge, comment,
each store's alert rules, and its channels (webhook, e-mail recipients, reports). Under ``/api/v1``.

Authorisation is the server's (``server.alerts.access``): a user sees the alerts of the stores whose
results they may see; technicians see none; changing a store's channels needs a manager of that
store or an admin. An unknown alert and another store's alert both answer 404.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, insert, select

from hymy.protocol import AlertRule
from hymy.rules import Evaluation
from hymy.timestamps import format_ts
from server import auth
from server.alerts import access
from server.alerts.engine import AlertService, episode_status
from server.alerts.notice import AlertNotice
from server.alerts.outbox import split_addresses
from server.alerts.source import store_config
from server.alerts.tables import alert_channels, alert_comments, alert_deliveries, alert_episodes
from server.body import field_error
from server.db import writing
from server.deps import current_user
from server.route import ApiRoute

router = APIRouter(prefix="/api/v1", tags=["alerts"], route_class=ApiRoute)

#: One plain address: no display name, no list separators (recipients are a list already), no spaces or
#: control characters (spelled out: Python's ``\s`` and JSON Schema's differ, and the schema gives this).
EMAIL_PATTERN = r'^[^@\x00-\x20\x7f,;<>"]{1,64}@[^@\x00-\x20\x7f,;<>"]{1,189}\.[^@\x00-\x20\x7f,;<>".]{2,63}$'
_EMAIL = re.compile(EMAIL_PATTERN)

#: Path parameters, bounded so no input can overflow a database integer or index.
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the alert's id")]
StoreId = Annotated[str, Path(min_length=1, max_length=64, description="the store's id")]
#: What the operations may answer besides 200 and 422: 403 only where something is changed (a role that may
#: only read, or a cookie-signed write without JSON or the CSRF token).
SEE = {401: {"description": "not signed in"}, 404: {"description": "no such alert or store (or not yours)"}}
CHANGE = {**SEE, 403: {"description": "not allowed: the role may not change this, or a cookie-signed write "
                                      "sent neither JSON nor the X-CSRF-Token header"}}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Comment(_Model):
    id: int
    author: str | None
    body: str
    created_at: str


class Delivery(_Model):
    event: str
    channel: str
    target: str
    status: str
    attempts: int
    error: str | None
    at: str


class Alert(_Model):
    id: int
    store_id: str
    rule_id: str
    kind: str
    status: Literal["open", "acknowledged", "cleared"]
    summary: str
    n: int
    value: float | None
    fired_at: str
    cleared_at: str | None
    clear_summary: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None


class AlertDetail(Alert):
    rule: dict
    comments: list[Comment]
    deliveries: list[Delivery]


class AckBody(_Model):
    comment: str | None = Field(None, max_length=2000)


class CommentBody(_Model):
    body: str = Field(min_length=1, max_length=2000)


class Channels(_Model):
    """A store's alert channels. ``webhook_secret`` is write-only: reads say only whether one is set."""

    webhook_url: str | None = Field(None, max_length=2000, pattern=r"^https?://")
    webhook_secret: str | None = Field(None, max_length=500, description="write-only; empty string removes it")
    email_to: list[Annotated[str, Field(json_schema_extra={"pattern": EMAIL_PATTERN})]] = Field(
        default_factory=list, max_length=50)
    daily_report: bool = Field(True, strict=True)
    weekly_report: bool = Field(False, strict=True)

    @field_validator("email_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for a in value:
            if not _EMAIL.fullmatch(a):
                raise ValueError(f"{a!r} is not an e-mail address like manager@shop.example")
        return value


class ChannelsOut(_Model):
    store_id: str
    webhook_url: str | None
    webhook_secret_set: bool
    email_to: list[str]
    daily_report: bool
    weekly_report: bool


def service(request: Request) -> AlertService:
    svc = getattr(request.app.state, "alerts", None)
    if svc is None:
        raise HTTPException(503, "alerts are not running on this server")
    return svc


def _alert(row) -> dict:
    m = row._mapping
    return {k: m[k] for k in ("id", "store_id", "rule_id", "kind", "summary", "n", "value", "fired_at",
                              "cleared_at", "clear_summary", "acknowledged_at", "acknowledged_by")} | {
        "status": episode_status(m)}


def _visible_row(request: Request, user: auth.User, alert_id: int):
    who = access.viewer(request, user)
    with service(request).engine.connect() as conn:
        row = conn.execute(select(alert_episodes).where(alert_episodes.c.id == alert_id)).first()
    if row is None or not who.can_see(row.store_id):
        raise HTTPException(404, "alert not found")
    return who, row


@router.get("/alerts", response_model=list[Alert], responses=SEE)
def list_alerts(request: Request, store: str | None = Query(None, min_length=1, max_length=64),
                status: Literal["open", "acknowledged", "cleared", "closed"] | None = None,
                limit: int = Query(100, ge=1, le=1000), user: auth.User = Depends(current_user)):
    """Alerts of the stores the caller may see, newest first. ``status=closed`` means acknowledged
    or cleared."""
    who = access.viewer(request, user)
    c = alert_episodes.c
    q = select(alert_episodes).order_by(c.fired_at.desc(), c.id.desc())
    if store is not None:
        if not who.can_see(store):
            raise HTTPException(404, "store not found")
        q = q.where(c.store_id == store)
    elif who.store_ids is not None:
        q = q.where(c.store_id.in_(sorted(who.store_ids)))
    if status == "open":
        q = q.where(c.acknowledged_at.is_(None), c.cleared_at.is_(None))
    elif status == "acknowledged":
        q = q.where(c.acknowledged_at.is_not(None))
    elif status == "cleared":
        q = q.where(c.acknowledged_at.is_(None), c.cleared_at.is_not(None))
    elif status == "closed":
        q = q.where((c.acknowledged_at.is_not(None)) | (c.cleared_at.is_not(None)))
    with service(request).engine.connect() as conn:
        return [_alert(r) for r in conn.execute(q.limit(limit))]


@router.get("/alerts/{alert_id}", response_model=AlertDetail, responses=SEE)
def get_alert(request: Request, alert_id: AlertId, user: auth.User = Depends(current_user)):
    """One alert with its rule (as it was when it fired), comments and delivery attempts."""
    import json

    _, row = _visible_row(request, user, alert_id)
    with service(request).engine.connect() as conn:
        comments = conn.execute(select(alert_comments).where(alert_comments.c.episode_id == alert_id)
                                .order_by(alert_comments.c.id)).all()
        deliveries = conn.execute(select(alert_deliveries).where(alert_deliveries.c.episode_id == alert_id)
                                  .order_by(alert_deliveries.c.id)).all()
    return _alert(row) | {
        "rule": json.loads(row.rule_json),
        "comments": [{k: r._mapping[k] for k in ("id", "author", "body", "created_at")} for r in comments],
        "deliveries": [{k: r._mapping[k] for k in ("event", "channel", "target", "status", "attempts", "error", "at")}
                       for r in deliveries],
    }


@router.post("/alerts/{alert_id}/acknowledge", response_model=Alert, responses=CHANGE)
def acknowledge(request: Request, alert_id: AlertId, body: AckBody | None = None, user: auth.User = Depends(current_user)):
    """Take the alert (closes it for people; idempotent). The optional comment is kept."""
    who, _ = _visible_row(request, user, alert_id)
    access.check_write(request)
    service(request).acknowledge(alert_id, who.name, (body.comment or None) if body else None)
    _, row = _visible_row(request, user, alert_id)
    return _alert(row)


@router.post("/alerts/{alert_id}/comments", response_model=Comment, status_code=201, responses=CHANGE)
def add_comment(request: Request, alert_id: AlertId, body: CommentBody, user: auth.User = Depends(current_user)):
    who, _ = _visible_row(request, user, alert_id)
    access.check_write(request)
    cid = service(request).comment(alert_id, who.name, body.body)
    with service(request).engine.connect() as conn:
        r = conn.execute(select(alert_comments).where(alert_comments.c.id == cid)).first()
    return {k: r._mapping[k] for k in ("id", "author", "body", "created_at")}


def _store_caller(request: Request, user: auth.User, store_id: str, *, manage: str | None = None):
    """The caller, allowed to see ``store_id`` (else 404, as for an unknown store). With ``manage``
    (what the caller does, for the 403 message) also a manager of the store or an admin, writing
    with JSON or the CSRF token (``access.check_write``)."""
    who = access.viewer(request, user)
    if not who.can_see(store_id):
        raise HTTPException(404, "store not found")
    if manage is not None:
        if not who.can_manage(store_id):
            raise HTTPException(403, f"only the store's managers and admins {manage}")
        access.check_write(request)
    return who


def _store_name(svc: AlertService, store_id: str) -> str:
    from server.alerts.source import store_name

    with svc.engine.connect() as conn:
        return store_name(conn, store_id)


def _channels_out(store_id: str, row) -> dict:
    if row is None:
        return {"store_id": store_id, "webhook_url": None, "webhook_secret_set": False, "email_to": [],
                "daily_report": True, "weekly_report": False}
    return {"store_id": store_id, "webhook_url": row.webhook_url, "webhook_secret_set": bool(row.webhook_secret),
            "email_to": split_addresses(row.email_to), "daily_report": bool(row.daily_report),
            "weekly_report": bool(row.weekly_report)}


@router.get("/stores/{store_id}/alert-channels", response_model=ChannelsOut, responses=SEE)
def get_channels(request: Request, store_id: StoreId, user: auth.User = Depends(current_user)):
    _store_caller(request, user, store_id)
    with service(request).engine.connect() as conn:
        row = conn.execute(select(alert_channels).where(alert_channels.c.store_id == store_id)).first()
    return _channels_out(store_id, row)


@router.put("/stores/{store_id}/alert-channels", response_model=ChannelsOut, responses=CHANGE)
def put_channels(request: Request, store_id: StoreId, body: Channels, user: auth.User = Depends(current_user)):
    """Replace the store's channels. Omitting ``webhook_secret`` keeps the current one."""
    _store_caller(request, user, store_id, manage="change its alert channels")
    svc = service(request)
    with writing(svc.engine) as conn:
        old = conn.execute(select(alert_channels).where(alert_channels.c.store_id == store_id)).first()
        secret = old.webhook_secret if old is not None else None
        if body.webhook_secret is not None:
            secret = body.webhook_secret or None
        conn.execute(delete(alert_channels).where(alert_channels.c.store_id == store_id))
        conn.execute(insert(alert_channels).values(
            store_id=store_id, webhook_url=body.webhook_url or None, webhook_secret=secret,
            email_to=", ".join(body.email_to) or None, daily_report=body.daily_report,
            weekly_report=body.weekly_report, updated_at=format_ts(svc.clock()),
        ))
        row = conn.execute(select(alert_channels).where(alert_channels.c.store_id == store_id)).first()
    return _channels_out(store_id, row)


MAX_RULES = 20


@router.get("/stores/{store_id}/alert-rules", response_model=list[AlertRule], responses=SEE)
def get_rules(request: Request, store_id: StoreId, user: auth.User = Depends(current_user)):
    """The store's alert rules (the same list kiosks get in their store config)."""
    _store_caller(request, user, store_id)
    with service(request).engine.connect() as conn:
        cfg = store_config(conn, store_id)
    if cfg is None:
        raise HTTPException(404, "store not found")
    return cfg.alert_rules


@router.put("/stores/{store_id}/alert-rules", response_model=list[AlertRule], responses=CHANGE)
def put_rules(request: Request, store_id: StoreId, body: Annotated[list[AlertRule], Body(max_length=MAX_RULES)],
              user: auth.User = Depends(current_user)):
    """Replace the store's alert rules. Kiosks get them with their next config pull (the ETag changes);
    the store is evaluated at once, so the episode of a removed or relaxed rule closes now."""
    _store_caller(request, user, store_id, manage="change its alert rules")
    seen: set[str] = set()
    for i, rule in enumerate(body):
        if rule.id in seen:
            raise field_error(["body", i, "id"], f"{i}.id: {rule.id!r} is used by an earlier rule; a store's "
                              "alert rule ids must be unique")
        seen.add(rule.id)
    from server.admin import set_alert_rules

    svc = service(request)
    set_alert_rules(svc.engine, store_id, list(body))
    svc.evaluate_store(store_id)
    with svc.engine.connect() as conn:
        return store_config(conn, store_id).alert_rules


@router.post("/stores/{store_id}/alert-channels/test", responses=CHANGE)
def test_channels(request: Request, store_id: StoreId, user: auth.User = Depends(current_user)):
    """Send a test notice to the store's channels now; answers what each channel did."""
    who = _store_caller(request, user, store_id, manage="test its alert channels")
    svc = service(request)
    now = svc.clock()
    ev = Evaluation(rule_id="test", kind="negative_share", active=True, n=4, value=50.0, threshold=50.0,
                    window_min=15, min_count=4, at=now)
    notice = AlertNotice(
        event="alert.test", alert_id=0, store_id=store_id, store_name=_store_name(svc, store_id),
        rule_id="test", kind="negative_share", summary=f"test from {who.name}: {ev.describe()}", fired_at=now,
        n=4, value=50.0, threshold=50.0, window_min=15,
    )
    return {"results": svc.outbox.deliver(notice)}
