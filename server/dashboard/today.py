"""Today: the landing page (a card per store, or a table from ``COMPACT_FROM`` stores) and the one JSON
endpoint its script polls, ``/today.json``."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse

from hymy.hours import zone

from .. import i18n, results
from .alerts_page import open_alerts
from .deps import context, data, need_results, signed_in
from .htmlroute import page_router
from .period import local_today, now
from .views import TodayCard, today_card
from .web import Ctx, redirect, render, render_text

router = page_router()

#: From this many stores Today is a table (one row per store) instead of cards.
COMPACT_FROM = 12


def _cards(ctx: Ctx) -> list[TodayCard]:
    """A card per store the user may see: its local today, yesterday and the same weekday last week."""
    d = data(ctx.request)
    stores = d.stores_for(ctx.user)
    if not stores:
        return []
    days_by_store = {s.id: local_today(s) for s in stores}
    wanted = {day - timedelta(days=back) for day in days_by_store.values() for back in (0, 1, 7)}
    with d.connect() as conn:
        figs = results.daily_by_store(conn, [s.id for s in stores], min(wanted), max(wanted), only=wanted)
    wd = i18n.weekday_names(ctx.lang, "wide")
    return [today_card(s, days_by_store[s.id], figs.get(s.id, {}), wd[days_by_store[s.id].weekday()]) for s in stores]


def _alerts_banner(ctx: Ctx, store_ids: list[str]) -> str:
    n = open_alerts(ctx.request, store_ids)
    if not n:
        return ""
    return render_text(ctx, "_alerts_banner.html", n=n)


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
    label = i18n.format_long_day(local_today(cards[0].store), ctx.lang) if cards else ""
    return render(ctx, "today.html", cards=cards, today_label=label, title=ctx._("Today"),
                  compact=len(cards) > COMPACT_FROM,
                  alerts_banner=_alerts_banner(ctx, [c.store.id for c in cards]))


@router.get("/today.json", name="dash.today_json")
def today_json(request: Request):
    """Each store card's HTML and version (the script replaces the cards that changed), its figure
    (``hymy.figures.Figure.to_json``, as the manager API answers it), the time and the alerts banner."""
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
    at = now().astimezone(zone(cards[0].store.timezone if cards else "UTC"))
    resp = JSONResponse({"stores": out, "at": at.strftime("%H:%M:%S"),
                         "alerts_html": _alerts_banner(ctx, [c.store.id for c in cards])})
    resp.headers["Cache-Control"] = "no-store"
    return resp
