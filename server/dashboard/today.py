"""Today: the landing page (a card per store, or a table from ``COMPACT_FROM`` stores) and the one JSON
endpoint its script polls, ``/today.json``."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse

from hymy.figures import empty
from hymy.hours import next_opening, zone

from .. import i18n, results
from ..results import usual
from .alerts_page import open_alerts
from .cards import TodayCard, today_card
from .deps import context, data, need_results, signed_in
from .htmlroute import page_router
from .period import local_today, now
from .views import StoreRef, day_hours
from .web import Ctx, redirect, render, render_text

router = page_router()

#: From this many stores Today is a table (one row per store) instead of cards.
COMPACT_FROM = 12


def _opens(ctx: Ctx, store: StoreRef, at: datetime) -> str | None:
    """When ``store`` opens next after ``at``, as a card says it: "8.00" today, else "ma 8.00"."""
    nxt = next_opening(store.hours, store.timezone, at)
    if nxt is None:
        return None
    local = nxt.astimezone(zone(store.timezone))
    clock = i18n.format_clock(local.time(), ctx.lang)
    if local.date() == at.astimezone(zone(store.timezone)).date():
        return clock
    return f"{i18n.weekday_names(ctx.lang, 'wide', 'stand-alone')[local.weekday()]} {clock}"


def _cards(ctx: Ctx, compact: bool | None = None) -> list[TodayCard]:
    """A card per store the user may see: its local today so far against a usual same weekday up to
    this hour; with cards (fewer than ``COMPACT_FROM`` stores) also the hours and reasons of the day."""
    d = data(ctx.request)
    stores = d.stores_for(ctx.user)
    if not stores:
        return []
    compact = len(stores) > COMPACT_FROM if compact is None else compact
    at = now()
    zones = {s.id: s.timezone for s in stores}
    local = {s.id: at.astimezone(zone(s.timezone)) for s in stores}
    days = {sid: t.date() for sid, t in local.items()}
    ids = [s.id for s in stores]
    until = {sid: t.hour for sid, t in local.items()}
    with d.connect() as conn:
        figs = results.daily_by_store(conn, ids, min(days.values()), max(days.values()), only=set(days.values()))
        if compact:  # the day so far against its usual, summed in the database
            verdicts = usual.days_so_far(conn, zones, days, until)
        else:  # the same from the hours the cards show anyway
            hours, usual_days = usual.usual_hours(conn, zones, days)
            verdicts = usual.judge_so_far(hours, usual_days, until)
            reasons = results.followups_by_hour(conn, {s.id: (s.timezone, days[s.id]) for s in stores}, "reason")
            names = results.followup_names(conn, ids, "reason", ctx.lang)
    wd = i18n.weekday_names(ctx.lang, "wide", "stand-alone")
    out = []
    for s in stores:
        day = days[s.id]
        today = figs.get(s.id, {}).get(day) or empty(s.scale)
        extra = {}
        if not compact:
            shown = day_hours(hours[s.id], s.open_hours(day))
            extra = dict(hours=hours[s.id], verdicts=usual.judge_hours(hours[s.id], usual_days[s.id], shown),
                         reasons=reasons.get(s.id, {}), names=names)
        opening = s.open_hours(day)  # when it opens next is shown only when closed today or not open yet
        opens = _opens(ctx, s, at) if opening == [] or (opening and local[s.id].hour < opening[0]) else None
        out.append(today_card(s, day, local[s.id].hour, today, verdicts[s.id], wd[day.weekday()],
                              opens=opens, **extra))
    return out


def _alerts_banner(ctx: Ctx, stores: list[StoreRef]) -> str:
    """The banner naming the stores with open alerts and how many each ("" without any)."""
    counts = open_alerts(ctx.request, [s.id for s in stores])
    if not counts:
        return ""
    named = [(s.name, counts[s.id]) for s in stores if counts.get(s.id)]
    return render_text(ctx, "_alerts_banner.html", n=sum(counts.values()), stores=named)


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
                  alerts_banner=_alerts_banner(ctx, [c.store for c in cards]))


@router.get("/today.json", name="dash.today_json")
def today_json(request: Request):
    """Each store card's HTML and version (the script replaces the cards that changed), its figure
    (``hymy.figures.Figure.to_json``, as the manager API answers it, with the day so far's verdict against
    a usual same weekday up to this hour), the time and the alerts banner."""
    ctx = context(request)
    if ctx.user is None:
        return JSONResponse({"detail": "not signed in"}, status_code=401)
    need_results(ctx)
    out = []
    cards = _cards(ctx)
    part = "_store_row.html" if len(cards) > COMPACT_FROM else "_store_card.html"
    for card in cards:
        html = render_text(ctx, part, s=card)
        out.append({"id": card.store.id, "version": card.version, "html": html, **card.today.to_json(),
                    **{k: v for k, v in card.result.to_json().items() if k in ("verdict", "p", "q", "baseline")}})
    at = now().astimezone(zone(cards[0].store.timezone if cards else "UTC"))
    resp = JSONResponse({"stores": out, "at": at.strftime("%H:%M:%S"),
                         "alerts_html": _alerts_banner(ctx, [c.store for c in cards])})
    resp.headers["Cache-Control"] = "no-store"
    return resp
