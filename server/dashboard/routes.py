"""The dashboard's pages (HTML) and the one JSON endpoint the live Today page polls.

``install(app, data)`` mounts everything on the server's FastAPI app: the router, the static files at
``/dashboard-static`` and the handlers that turn "not signed in" into a redirect to the login page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fastapi import APIRouter, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from server.localtime import parse_day

from . import i18n
from .charts import bar_chart, hbar_chart, heatmap, trend_chart
from .deps import (
    NeedLogin,
    check_csrf,
    context,
    data,
    need_results,
    need_role,
    results_reader,
    results_store,
    signed_in,
)
from .honest import merge
from .views import (
    date_range,
    empty,
    heat_rows,
    hour_bars,
    months,
    opening_hour_range,
    ranking,
    today_card,
    trend_points,
    weeks,
)
from .web import HERE, STATIC_URL, Ctx, redirect, render, render_text


class _HtmlErrors(APIRoute):
    """Dashboard routes answer errors with a readable page (in the user's language), not JSON,
    without touching the app-wide handlers the JSON API relies on."""

    def get_route_handler(self):
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except HTTPException as exc:
                if request.url.path.endswith(".json"):
                    raise
                return html_error(request, exc.status_code, str(exc.detail))

        return handler


router = APIRouter(include_in_schema=False, route_class=_HtmlErrors)


# --------------------------------------------------------------------------- helpers


def _local_today(store) -> date:
    return data_now().astimezone(i18n_zone(store.timezone)).date()


def data_now() -> datetime:
    from hymy.timestamps import utcnow

    return utcnow()


def i18n_zone(name: str):
    from hymy.hours import zone

    return zone(name)


def _parse_date(text: str | None, default: date, name: str = "date") -> date:
    """The local date in query parameter ``name`` (``default`` when absent); 422 naming it when it is not a
    date the server answers about (``server.localtime.parse_day``)."""
    if not text:
        return default
    try:
        return parse_day(text, name)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _period(ctx: Ctx, store_id: str | None, date_from: str | None, date_to: str | None, default_days: int = 30):
    d = data(ctx.request)
    stores = d.stores_for(ctx.user)
    store = results_store(ctx, store_id) if store_id else None
    chosen = [store] if store else stores
    today = _local_today(chosen[0]) if chosen else data_now().date()
    last = _parse_date(date_to, today, "to")
    first = _parse_date(date_from, last - timedelta(days=default_days - 1), "from")
    if first > last:
        first, last = last, first
    if (last - first).days > 366 * 2:
        first = last - timedelta(days=366 * 2)
    return stores, store, chosen, first, last


# --------------------------------------------------------------------------- Today


def _cards(ctx: Ctx):
    d = data(ctx.request)
    stores = d.stores_for(ctx.user)
    if not stores:
        return []
    days_by_store = {}
    for s in stores:
        days_by_store[s.id] = _local_today(s)
    wanted = {day - timedelta(days=back) for day in days_by_store.values() for back in (0, 1, 7)}
    figs = d.daily([s.id for s in stores], min(wanted), max(wanted), only=wanted)
    wd = i18n.weekday_names(ctx.lang, "wide")
    return [today_card(s, days_by_store[s.id], figs.get(s.id, {}), wd[days_by_store[s.id].weekday()]) for s in stores]


#: From this many stores Today is a table (one row per store) instead of cards.
COMPACT_FROM = 12


@router.get("/", name="dash.root")
def root(request: Request):
    ctx = signed_in(request)
    return redirect(ctx.url("devices") if ctx.user.role == "technician" else ctx.url("today"))


@router.get("/today", name="dash.today", response_class=HTMLResponse)
def today_page(request: Request):
    ctx = signed_in(request)
    if ctx.user.role == "technician":
        return redirect(ctx.url("devices"))
    cards = _cards(ctx)
    label = i18n.format_long_day(_local_today(cards[0].store), ctx.lang) if cards else ""
    return render(ctx, "today.html", cards=cards, today_label=label, title=ctx._("Today"),
                  compact=len(cards) > COMPACT_FROM,
                  alerts_banner=_alerts_banner(ctx, [c.store.id for c in cards]))


def _alerts_banner(ctx: Ctx, store_ids: list[str]) -> str:
    from .alerts_page import open_alerts

    n = open_alerts(ctx.request, store_ids)
    if not n:
        return ""
    return render_text(ctx, "_alerts_banner.html", n=n)


@router.get("/today.json", name="dash.today_json")
def today_json(request: Request):
    ctx = context(request)
    if ctx.user is None:
        return JSONResponse({"detail": "not signed in"}, status_code=401)
    need_results(ctx)
    out = []
    cards = _cards(ctx)
    part = "_store_row.html" if len(cards) > COMPACT_FROM else "_store_card.html"
    for card in cards:
        html = render_text(ctx, part, s=card)
        out.append({"id": card.store.id, "version": card.version, "html": html, **card.today.to_json()})
    now = data_now().astimezone(i18n_zone(out and _first_tz(ctx) or "UTC"))
    resp = JSONResponse({"stores": out, "at": now.strftime("%H:%M:%S"),
                         "alerts_html": _alerts_banner(ctx, [c.store.id for c in cards])})
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _first_tz(ctx: Ctx) -> str:
    stores = data(ctx.request).stores_for(ctx.user)
    return stores[0].timezone if stores else "UTC"


# --------------------------------------------------------------------------- store pages


@router.get("/stores/{store_id}/day", name="dash.day", response_class=HTMLResponse)
def day_page(request: Request, store_id: str, date_: str | None = Query(None, alias="date")):
    ctx = signed_in(request)
    store = results_store(ctx, store_id)
    d = data(request)
    today = _local_today(store)
    day = min(_parse_date(date_, today), today)
    hours = d.hourly(store.id, day)
    cfg = d.store_config(store.id)
    total = merge(list(hours.values())) if hours else merge([])
    if total.scale != store.scale and not hours:
        total = empty(store.scale)
    bars = hour_bars(hours, opening_hour_range(cfg.opening_hours if cfg else None))
    _ = ctx._
    items = _followups(ctx, [store.id], day, day, "reason")
    return render(
        ctx, "day.html", store=store, day=day, today=today, tz=store.timezone,
        day_label=i18n.format_long_day(day, ctx.lang), prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1) if day < today else None,
        hours=sorted(hours.items()), total=total,
        hours_svg=bar_chart(bars, label=_("Happy Index hour by hour"), n_label="N"),
        reasons=items, reasons_svg=hbar_chart(items, label=_("Reasons")) if items else "",
        title=store.name, section="today",
    )


def _followups(ctx: Ctx, store_ids: list[str], first: date, last: date, kind: str) -> list[tuple[str, int]]:
    """(name in the user's language, count) of the follow-up answers of ``kind`` ("reason" or "praise")
    in ``store_ids`` over the local dates ``first``..``last``, most frequent first."""
    d = data(ctx.request)
    counts = d.followup_counts(store_ids, first, last, kind)
    names = d.followup_names(store_ids, kind, ctx.lang)
    return [(names.get(r, r), c) for r, c in counts]


@router.get("/trends", name="dash.trends_home")
def trends_home(request: Request):
    ctx = results_reader(request)
    stores = data(request).stores_for(ctx.user)
    if not stores:
        return render(ctx, "error.html", status_code=404, heading=ctx._("Trends"), message=ctx._("No stores to show."))
    return redirect(ctx.url("trends", store_id=stores[0].id))


#: The periods (days up to today) the trends and heat map pages offer (``_storehead.html`` links them).
STORE_PERIODS = (30, 90, 365)


def _store_period(request: Request, store_id: str, days: int, default: int):
    """A store page's store and its last ``days`` local days (``default`` unless one of ``STORE_PERIODS``).

    Returns (ctx, store, days, first, today).
    """
    ctx = signed_in(request)
    store = results_store(ctx, store_id)
    days = days if days in STORE_PERIODS else default
    today = _local_today(store)
    return ctx, store, days, today - timedelta(days=days - 1), today


@router.get("/stores/{store_id}/trends", name="dash.trends", response_class=HTMLResponse)
def trends_page(request: Request, store_id: str, days: int = Query(30)):
    ctx, store, days, first, today = _store_period(request, store_id, days, 30)
    figs = data(request).daily([store.id], first, today).get(store.id, {})
    span = date_range(first, today)
    pts = trend_points(span, figs, ctx.lang)
    _ = ctx._
    total = merge(list(figs.values())) if figs else merge([])
    return render(
        ctx, "trends.html", store=store, days=days, periods=STORE_PERIODS, total=total,
        trend_svg=trend_chart(pts, label=_("Happy Index per day"), max_labels=6),
        weeks=months(span, figs, ctx.lang) if days == 365 else weeks(span, figs, ctx.lang, _("wk")),
        by_month=days == 365,
        first_label=i18n.format_day(first, ctx.lang), last_label=i18n.format_day(today, ctx.lang),
        daily_csv=data(request).daily_csv_url(store.id, first, today),
        raw_csv=data(request).raw_csv_url(store.id, first, today),
        title=f"{store.name} · {_('Trends')}", section="trends_home",
    )


@router.get("/stores/{store_id}/heatmap", name="dash.heatmap", response_class=HTMLResponse)
def heatmap_page(request: Request, store_id: str, days: int = Query(90)):
    ctx, store, days, first, today = _store_period(request, store_id, days, 90)
    d = data(request)
    cells = d.weekday_hour(store.id, first, today)
    cfg = d.store_config(store.id)
    used = sorted({h for (_w, h), f in cells.items() if f.n} | set(opening_hour_range(cfg.opening_hours if cfg else None)))
    hours = list(range(used[0], used[-1] + 1)) if used else list(range(8, 21))
    svg = heatmap(heat_rows(cells, hours), i18n.weekday_names(ctx.lang), [f"{h:02d}" for h in hours],
                  label=ctx._("Heat map"))
    return render(ctx, "heatmap.html", store=store, days=days, periods=STORE_PERIODS, heat_svg=svg, tz=store.timezone,
                  title=f"{store.name} · {ctx._('Heat map')}", section="trends_home")


# --------------------------------------------------------------------------- compare, reasons, praise


@router.get("/compare", name="dash.compare", response_class=HTMLResponse)
def compare_page(request: Request, region: str | None = None, days: int = Query(30)):
    ctx = results_reader(request)
    d = data(request)
    stores = d.stores_for(ctx.user)
    regions = d.regions_for(ctx.user)
    if region and region not in {r.id for r in regions}:
        raise HTTPException(404, "region")
    region_id = region or (regions[0].id if len(regions) == 1 else None)
    chosen = [s for s in stores if region_id is None or s.region_id == region_id]
    days = days if days in (1, 7, 30, 90, 365) else 30
    rows = []
    if chosen:
        last = max(_local_today(s) for s in chosen)
        totals = d.totals([s.id for s in chosen], last - timedelta(days=days - 1), last)
        rows = [(s, totals.get(s.id) or empty(s.scale)) for s in chosen]
    return render(ctx, "compare.html", ranking=ranking(rows), regions=regions, region_id=region_id, days=days,
                  title=ctx._("Compare stores"))


@dataclass(frozen=True, slots=True)
class _PeriodAnswers:
    """What a reasons or praise page shows: the period form's choice (see ``_period``) and ``items``,
    the follow-up answers of one kind in it (name in the user's language, count), most frequent first."""

    ctx: Ctx
    stores: list  #: every store the user may see (the form's choices)
    store: object | None  #: the one store chosen, or None for all of them
    chosen: list  #: the stores counted
    first: date
    last: date
    items: list[tuple[str, int]]

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.chosen]

    def render(self, template: str, **values) -> Response:
        """``template`` with the period form's fields and ``items`` filled in, plus ``values``."""
        return render(self.ctx, template, stores=self.stores, store=self.store, date_from=self.first,
                      date_to=self.last, items=self.items, **values)


def _period_answers(request: Request, kind: str, store_id: str | None, date_from: str | None,
                    date_to: str | None) -> _PeriodAnswers:
    """For a user who may see results: the chosen stores and period and their answers of ``kind``."""
    ctx = results_reader(request)
    stores, one, chosen, first, last = _period(ctx, store_id, date_from, date_to)
    items = _followups(ctx, [s.id for s in chosen], first, last, kind)
    return _PeriodAnswers(ctx, stores, one, chosen, first, last, items)


@router.get("/reasons", name="dash.reasons", response_class=HTMLResponse)
def reasons_page(request: Request, store: str | None = None, from_: str | None = Query(None, alias="from"),
                 to: str | None = None):
    p = _period_answers(request, "reason", store, from_, to)
    negative = sum(f.negative for f in data(request).totals(p.ids, p.first, p.last).values())
    _ = p.ctx._
    return p.render("reasons.html", total=sum(c for _n, c in p.items), negative=negative,
                    chart=hbar_chart(p.items, label=_("Reasons")) if p.items else "", title=_("Reasons"),
                    page="reasons")


@router.get("/praise", name="dash.praise", response_class=HTMLResponse)
def praise_page(request: Request, store: str | None = None, from_: str | None = Query(None, alias="from"),
                to: str | None = None):
    p = _period_answers(request, "praise", store, from_, to)
    by_id = {s.id: s for s in p.chosen}
    comments = []
    for c in data(request).positive_comments(p.ids, p.first, p.last, limit=30):
        s = by_id.get(c["store_id"])
        local = c["at"].astimezone(i18n_zone(s.timezone if s else "UTC"))
        comments.append({"text": c["text"], "store": s.name if s else "",
                         "when": i18n.format_day(local.date(), p.ctx.lang) + local.strftime(" %H:%M")})
    return p.render("praise.html", comments=comments, title=p.ctx._("Praise"), page="praise")


# --------------------------------------------------------------------------- install


def install(app: FastAPI, dashboard_data) -> None:
    """Mount the dashboard on ``app`` with ``dashboard_data`` (see ``server.dashboard.data``)."""
    from . import account, admin_pages, alerts_page, devices  # noqa: F401  (they add their routes to ``router``)

    app.state.dashboard = dashboard_data
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=str(HERE / "static")), name="dashboard-static")

    @app.exception_handler(NeedLogin)
    async def _need_login(request: Request, exc: NeedLogin):  # noqa: ARG001
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(str(app.url_path_for("dash.login")) + "?next=" + _quote(nxt))


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


def html_error(request: Request, status: int, detail: str) -> Response | None:
    """An HTML error page for dashboard paths (the JSON API keeps its JSON errors)."""
    ctx = context(request)
    _ = ctx._
    heading = {403: _("Not allowed"), 404: _("Not found"), 422: _("Check the address")}.get(status, _("Error"))
    message = {403: _("You do not have access to this page, or the form had expired. Reload the page and try again."),
               404: _("There is nothing here, or it is not one of your stores.")}.get(status, detail)
    return render(ctx, "error.html", status_code=status, heading=heading, message=message, title=heading)


__all__ = ["router", "install", "need_role", "check_csrf", "Form"]
