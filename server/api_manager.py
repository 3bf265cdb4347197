"""The manager JSON API and CSV exports. Object-level authorisation on every endpoint:
a store the user may not see answers 404 (never revealing that it exists); technicians get 403 on results.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hymy.hours import zone

from . import admin, auth, export, results
from . import tables as t
from .body import field_error
from .deps import current_user, unauthorized
from .localtime import DATE_PATTERN, FIRST_DAY, LAST_DAY, parse_day, utc_now
from .results import usual
from .route import ApiRoute

router = APIRouter(prefix="/api/v1", tags=["manager"], route_class=ApiRoute)
#: What each operation may answer besides 200 and 422; 403 only where a role can be refused.
SIGNED_IN = {401: {"description": "not signed in"}}
RESULTS = {**SIGNED_IN, 403: {"description": "role may not read results (technicians)"},
           404: {"description": "no such store or region (or not yours)"}}


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class Me(BaseModel):
    id: int
    username: str
    role: str
    store_ids: list[str]
    region_ids: list[str]


class StoreOut(BaseModel):
    id: str
    name: str
    region_id: str | None
    timezone: str


class RegionOut(BaseModel):
    id: str
    name: str
    store_ids: list[str]


class Baseline(BaseModel):
    """The usual a figure was compared with: the same weekday (and hour) of the 8 weeks before."""

    n: int
    index: int | None


class Figures(BaseModel):
    """One period's figure (``hymy.figures.Figure.to_json``)."""

    n: int
    counts: dict[str, int] = Field(description="presses per face (mood 1..scale), counted only")
    scales: list[int]
    happy_index: float | None
    positive_pct: float | None
    negative_pct: float | None
    low_confidence: bool
    filtered: int = Field(description="presses kept but not counted (repeat, closed, maintenance)")
    index: int | None = Field(None, description="the Happy Index rounded as the dashboard shows it (halves up)")
    scale: int = Field(4, description="the scale of the face bar: the one with most counted presses")
    interval: list[int] = Field([0, 100], min_length=2, max_length=2, description=(
        "the index's uncertainty interval [low, high] at `level`, rounded like `index`; [0, 100] without presses"))
    level: float = Field(0.95, description="the interval's confidence level")
    verdict: Literal["lower", "higher", "usual", "too_few"] | None = Field(None, description=(
        "against the store's usual (docs/statistics.md): lower / higher than usual after Benjamini-Hochberg "
        "over the answer's days or hours; usual: within the usual range; too_few: under 20 presses on either "
        "side; null: not compared (a total, or a day not over yet)"))
    p: float | None = Field(None, description="the comparison's p-value; null when not tested")
    q: float | None = Field(None, description="its Benjamini-Hochberg adjusted p-value within the answer; null when not tested")
    baseline: Baseline | None = Field(None, description="what it was compared with; null when not compared")


class Day(Figures):
    date: str


class Hour(Figures):
    hour: str = Field(description="local start of the hour with its UTC offset")
    hour_utc: str


class DailyOut(BaseModel):
    store_id: str | None = None
    region_id: str | None = None
    start: str = Field(alias="from")
    to: str
    days: list[Day]
    total: Figures
    model_config = ConfigDict(populate_by_name=True)


class HourlyOut(BaseModel):
    store_id: str
    date: str
    timezone: str
    hours: list[Hour]
    total: Figures


class Count(BaseModel):
    kind: str
    value: str
    n: int


class DeviceOut(BaseModel):
    id: str
    store_id: str
    name: str | None
    enrolled_at: str | None
    revoked_at: str | None
    last_seen_at: str | None
    app_version: str | None
    clock_synced: bool | None
    pending: int | None
    oldest_pending_s: float | None
    quarantined: int | None
    last_error: str | None
    disk_free_mb: float | None
    cpu_temp_c: float | None


# --------------------------------------------------------------------------- session


@router.post("/session", response_model=Me, responses={401: {"description": "wrong username or password"}})
async def login(body: Login, request: Request) -> Response:
    """Sign in: sets a new session cookie (a fresh random id at every sign-in)."""
    engine = request.app.state.engine
    user = await run_in_threadpool(auth.verify_password, engine, body.username, body.password)
    if user is None:
        raise unauthorized("username or password is wrong")
    old = request.cookies.get(request.app.state.settings.session_cookie)
    if old:
        await run_in_threadpool(auth.delete_session, engine, old)
    sid = await run_in_threadpool(auth.create_session, engine, user)
    s = request.app.state.settings
    resp = Response(Me(id=user.id, username=user.username, role=user.role, store_ids=list(user.store_ids),
                       region_ids=list(user.region_ids)).model_dump_json(), media_type="application/json")
    resp.set_cookie(s.session_cookie, sid, httponly=True, secure=s.secure_cookies, samesite="lax",
                    max_age=s.session_idle_s, path="/")
    return resp


@router.delete("/session", status_code=204)
async def logout(request: Request) -> Response:
    """Sign out: the session row is deleted and the cookie cleared."""
    sid = request.cookies.get(request.app.state.settings.session_cookie)
    if sid:
        await run_in_threadpool(auth.delete_session, request.app.state.engine, sid)
    resp = Response(status_code=204)
    resp.delete_cookie(request.app.state.settings.session_cookie, path="/")
    return resp


@router.get("/me", response_model=Me, responses=SIGNED_IN)
def me(user: auth.User = Depends(current_user)) -> Me:
    return Me(id=user.id, username=user.username, role=user.role, store_ids=list(user.store_ids),
              region_ids=list(user.region_ids))


# --------------------------------------------------------------------------- helpers


def _results_store(conn, user: auth.User, store_id: str):
    if user.role == "technician":
        raise HTTPException(403, "role: technicians see devices, not results")
    if store_id not in auth.visible_store_ids(conn, user):
        raise HTTPException(404, f"store: {store_id!r} not found")
    return conn.execute(select(t.stores).where(t.stores.c.id == store_id)).first()


def _day(text: str, name: str) -> date:
    """The local date in query parameter ``name``; 422 naming it when it is not one the server answers about."""
    try:
        return parse_day(text, name)
    except ValueError as exc:
        raise field_error(["query", name], str(exc)) from None


def _range(request: Request, start: str, end: str) -> tuple[date, date]:
    a, b = _day(start, "from"), _day(end, "to")
    if b < a:
        raise field_error(["query", "to"], "to: must not be before from")
    limit = request.app.state.settings.max_range_days
    if (b - a).days + 1 > limit:
        raise field_error(["query", "to"], f"to: the range from..to is at most {limit} days")
    return a, b


def day_query(alias: str | None = None, what: str = "local date") -> str:
    """A ``YYYY-MM-DD`` query parameter; its OpenAPI pattern matches exactly the dates ``parse_day`` takes
    (checked by ``_day``, so a refusal names the parameter in plain words)."""
    return Query(alias=alias, description=f"{what}, YYYY-MM-DD ({FIRST_DAY}..{LAST_DAY})",
                 json_schema_extra={"pattern": DATE_PATTERN})




def _days_out(conn, owner: dict, store_ids: list[str], first: date, last: date) -> dict:
    """A ``DailyOut`` answer: the owner (store or region), the range, each day's figure with its verdict
    against its usual (days over in every store's zone; ``server.results.usual``) and the total."""
    zones = conn.execute(select(t.stores.c.timezone).where(t.stores.c.id.in_(store_ids))).scalars().all()
    now = utc_now()
    over_before = min((now.astimezone(zone(z)).date() for z in zones), default=now.date())
    days, judged = usual.days_vs_usual(conn, store_ids, first, last, over_before)
    return {**owner, "from": first.isoformat(), "to": last.isoformat(),
            "days": [{"date": d.isoformat(), **f.to_json(judged[d])} for d, f in days.items()],
            "total": results.merge(days.values()).to_json()}


# --------------------------------------------------------------------------- stores and regions


@router.get("/stores", response_model=list[StoreOut], responses=SIGNED_IN)
def stores(request: Request, user: auth.User = Depends(current_user)) -> list[StoreOut]:
    """Stores whose results the user may read (technicians: the stores of their devices)."""
    with request.app.state.engine.connect() as conn:
        ids = auth.device_store_ids(conn, user) if user.role == "technician" else auth.visible_store_ids(conn, user)
        rows = conn.execute(select(t.stores.c.id, t.stores.c.name, t.stores.c.region_id, t.stores.c.timezone)
                            .where(t.stores.c.id.in_(ids)).order_by(t.stores.c.id)).all()
    return [StoreOut(**r._mapping) for r in rows]


@router.get("/stores/{store_id}/daily", response_model=DailyOut, responses=RESULTS)
def store_daily(request: Request, store_id: str, start: str = day_query("from", "first local date"),
                to: str = day_query(None, "last local date"), user: auth.User = Depends(current_user)):
    """Figures per local date of the store, ``from``..``to`` inclusive, and the period's total. Each day
    that is over is judged against the same weekday of the 8 weeks before (``verdict``), the days of the
    answer as one family (Benjamini-Hochberg)."""
    with request.app.state.engine.connect() as conn:
        _results_store(conn, user, store_id)
        a, b = _range(request, start, to)
        return _days_out(conn, {"store_id": store_id}, [store_id], a, b)


@router.get("/stores/{store_id}/hourly", response_model=HourlyOut, responses=RESULTS)
def store_hourly(request: Request, store_id: str, date: str = day_query(None, "the local date"),
                 user: auth.User = Depends(current_user)):
    """Figures per hour bucket of one local date, by local start (23, 24 or 25 on most DST days; see
    docs/time.md for half-hour shifts). Each hour is judged against the same local hour of the same
    weekday of the 8 weeks before (``verdict``), the day's hours as one family."""
    with request.app.state.engine.connect() as conn:
        row = _results_store(conn, user, store_id)
        day = _day(date, "date")
        buckets, judged = usual.hours_vs_usual(conn, store_id, row.timezone, day)
    return {"store_id": store_id, "date": day.isoformat(), "timezone": row.timezone,
            "hours": [{"hour": b.hour, "hour_utc": b.hour_utc, **b.figure.to_json(r)}
                      for b, r in zip(buckets, judged, strict=True)],
            "total": results.merge(b.figure for b in buckets).to_json()}


@router.get("/stores/{store_id}/followups", response_model=list[Count], responses=RESULTS)
def store_followups(request: Request, store_id: str, start: str = day_query("from", "first local date"),
                    to: str = day_query(None, "last local date"), user: auth.User = Depends(current_user)):
    """Reason and praise choices in the period, most frequent first."""
    with request.app.state.engine.connect() as conn:
        _results_store(conn, user, store_id)
        a, b = _range(request, start, to)
        return [c._asdict() for c in results.followup_counts(conn, [store_id], a, b)]


@router.get("/regions", response_model=list[RegionOut], responses=SIGNED_IN)
def regions(request: Request, user: auth.User = Depends(current_user)) -> list[RegionOut]:
    """Regions whose combined results the user may read (admins: all; regional managers: theirs)."""
    with request.app.state.engine.connect() as conn:
        ids = auth.region_ids_visible(conn, user)
        rows = conn.execute(select(t.regions).where(t.regions.c.id.in_(ids)).order_by(t.regions.c.id)).all()
        out = []
        for r in rows:
            sids = conn.execute(select(t.stores.c.id).where(t.stores.c.region_id == r.id)
                                .order_by(t.stores.c.id)).scalars().all()
            out.append(RegionOut(id=r.id, name=r.name, store_ids=list(sids)))
    return out


def _region_stores(conn, user, region_id: str) -> list[str]:
    if user.role == "technician":
        raise HTTPException(403, "role: technicians see devices, not results")
    if region_id not in auth.region_ids_visible(conn, user):
        raise HTTPException(404, f"region: {region_id!r} not found")
    return list(conn.execute(select(t.stores.c.id).where(t.stores.c.region_id == region_id)).scalars())


@router.get("/regions/{region_id}/daily", response_model=DailyOut, responses=RESULTS)
def region_daily(request: Request, region_id: str, start: str = day_query("from", "first local date"),
                 to: str = day_query(None, "last local date"), user: auth.User = Depends(current_user)):
    """Figures per local date summed over the region's stores (each store's own local dates), each day
    judged against the region's usual for that weekday like a store's."""
    with request.app.state.engine.connect() as conn:
        sids = _region_stores(conn, user, region_id)
        a, b = _range(request, start, to)
        return _days_out(conn, {"region_id": region_id}, sids, a, b)


@router.get("/regions/{region_id}/followups", response_model=list[Count], responses=RESULTS)
def region_followups(request: Request, region_id: str, start: str = day_query("from", "first local date"),
                     to: str = day_query(None, "last local date"), user: auth.User = Depends(current_user)):
    with request.app.state.engine.connect() as conn:
        sids = _region_stores(conn, user, region_id)
        a, b = _range(request, start, to)
        return [c._asdict() for c in results.followup_counts(conn, sids, a, b)]


# --------------------------------------------------------------------------- fleet


@router.get("/fleet", response_model=list[DeviceOut], responses={
    **SIGNED_IN, 404: {"description": "no such store (or none of your devices' stores)"}})
def fleet(request: Request, store: str | None = Query(None, max_length=64), user: auth.User = Depends(current_user)):
    """Devices and their last heartbeat state (all the user's stores, or ``store``)."""
    with request.app.state.engine.connect() as conn:
        ids = auth.device_store_ids(conn, user)
        if store is not None:
            if store not in ids:
                raise HTTPException(404, f"store: {store!r} not found")
            ids = {store}
        d = t.devices
        rows = conn.execute(select(d.c.id, d.c.store_id, d.c.name, d.c.enrolled_at, d.c.revoked_at, d.c.last_seen_at,
                                   d.c.app_version, d.c.clock_synced, d.c.pending, d.c.oldest_pending_s,
                                   d.c.quarantined, d.c.last_error, d.c.disk_free_mb, d.c.cpu_temp_c)
                            .where(d.c.store_id.in_(ids)).order_by(d.c.store_id, d.c.id)).all()
    return [DeviceOut(**r._mapping) for r in rows]


# --------------------------------------------------------------------------- comments (admin)


@router.delete("/comments/{followup_id}", status_code=204, responses={
    **SIGNED_IN, 403: {"description": "only admins delete comments"}, 404: {"description": "no such comment"}})
def delete_comment(request: Request, followup_id: str, user: auth.User = Depends(current_user)) -> Response:
    """Erase a free comment's text (admins). The event stays, so counts do not change."""
    if user.role != "admin":
        raise HTTPException(403, "role: only admins delete comments")
    if not admin.delete_comment(request.app.state.engine, followup_id):
        raise HTTPException(404, f"comment: {followup_id!r} not found")
    return Response(status_code=204)


# --------------------------------------------------------------------------- CSV


CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV, UTF-8"}, **RESULTS}


@router.get("/export/responses.csv", response_class=Response, responses=CSV)
def export_responses(request: Request, store: str = Query(max_length=64), start: str = day_query("from", "first local date"),
                     to: str = day_query(None, "last local date"), user: auth.User = Depends(current_user)) -> Response:
    """Raw events of the store pressed on local dates ``from``..``to``: responses, then follow-ups."""
    with request.app.state.engine.connect() as conn:
        row = _results_store(conn, user, store)
        a, b = _range(request, start, to)
        body = export.responses_csv(conn, store, row.timezone, a, b)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="hymy-{store}-{a}-{b}-responses.csv"'})


@router.get("/export/daily.csv", response_class=Response, responses=CSV)
def export_daily(request: Request, store: str = Query(max_length=64), start: str = day_query("from", "first local date"),
                 to: str = day_query(None, "last local date"), user: auth.User = Depends(current_user)) -> Response:
    """Daily figures of the store: date, N, faces 1..5, Happy Index, % positive, % negative, filtered."""
    with request.app.state.engine.connect() as conn:
        _results_store(conn, user, store)
        a, b = _range(request, start, to)
        body = export.daily_csv(conn, store, a, b)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="hymy-{store}-{a}-{b}-daily.csv"'})
