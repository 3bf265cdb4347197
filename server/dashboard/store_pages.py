"""One store's pages: the day hour by hour, trends over 30/90/365 days, the weekday x hour heat map."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from hymy.figures import empty, merge

from .. import i18n, results
from .charts import bar_chart, hbar_chart, heatmap, trend_chart
from .deps import data, results_reader, results_store, signed_in
from .htmlroute import page_router
from .period import followup_items, local_today, parse_date
from .views import date_range, heat_rows, hour_bars, months, opening_hour_range, trend_points, weeks
from .web import redirect, render

router = page_router()

#: The periods (days up to today) the trends and heat map pages offer (``_storehead.html`` links them).
STORE_PERIODS = (30, 90, 365)


@router.get("/stores/{store_id}/day", name="dash.day", response_class=HTMLResponse)
def day_page(request: Request, store_id: str, date_: str | None = Query(None, alias="date")):
    ctx = signed_in(request)
    store = results_store(ctx, store_id)
    d = data(request)
    today = local_today(store)
    day = min(parse_date(date_, today), today)
    with d.connect() as conn:
        hours = results.by_local_hour(results.hour_buckets(conn, store.id, store.timezone, day))
    cfg = d.store_config(store.id)
    total = merge(hours.values()) if hours else empty(store.scale)
    bars = hour_bars(hours, opening_hour_range(cfg.opening_hours if cfg else None))
    _ = ctx._
    items = followup_items(ctx, [store.id], day, day, "reason")
    return render(
        ctx, "day.html", store=store, day=day, today=today, tz=store.timezone,
        day_label=i18n.format_long_day(day, ctx.lang), prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1) if day < today else None,
        hours=sorted(hours.items()), total=total,
        hours_svg=bar_chart(bars, label=_("Happy Index hour by hour"), n_label="N"),
        reasons=items, reasons_svg=hbar_chart(items, label=_("Reasons")) if items else "",
        title=store.name, section="today",
    )


@router.get("/trends", name="dash.trends_home")
def trends_home(request: Request):
    ctx = results_reader(request)
    stores = data(request).stores_for(ctx.user)
    if not stores:
        return render(ctx, "error.html", status_code=404, heading=ctx._("Trends"), message=ctx._("No stores to show."))
    return redirect(ctx.url("trends", store_id=stores[0].id))


def _store_period(request: Request, store_id: str, days: int, default: int):
    """A store page's store and its last ``days`` local days (``default`` unless one of ``STORE_PERIODS``).

    Returns (ctx, store, days, first, today).
    """
    ctx = signed_in(request)
    store = results_store(ctx, store_id)
    days = days if days in STORE_PERIODS else default
    today = local_today(store)
    return ctx, store, days, today - timedelta(days=days - 1), today


@router.get("/stores/{store_id}/trends", name="dash.trends", response_class=HTMLResponse)
def trends_page(request: Request, store_id: str, days: int = Query(30)):
    ctx, store, days, first, today = _store_period(request, store_id, days, 30)
    d = data(request)
    with d.connect() as conn:
        figs = results.daily_by_store(conn, [store.id], first, today).get(store.id, {})
    span = date_range(first, today)
    pts = trend_points(span, figs, ctx.lang)
    _ = ctx._
    total = merge(figs.values())
    return render(
        ctx, "trends.html", store=store, days=days, periods=STORE_PERIODS, total=total,
        trend_svg=trend_chart(pts, label=_("Happy Index per day"), max_labels=6),
        weeks=months(span, figs, ctx.lang) if days == 365 else weeks(span, figs, ctx.lang, _("wk")),
        by_month=days == 365,
        first_label=i18n.format_day(first, ctx.lang), last_label=i18n.format_day(today, ctx.lang),
        daily_csv=d.daily_csv_url(store.id, first, today), raw_csv=d.raw_csv_url(store.id, first, today),
        title=f"{store.name} · {_('Trends')}", section="trends_home",
    )


@router.get("/stores/{store_id}/heatmap", name="dash.heatmap", response_class=HTMLResponse)
def heatmap_page(request: Request, store_id: str, days: int = Query(90)):
    ctx, store, days, first, today = _store_period(request, store_id, days, 90)
    d = data(request)
    with d.connect() as conn:
        cells = results.weekday_hour(conn, store.id, store.timezone, first, today)
    cfg = d.store_config(store.id)
    used = sorted({h for (_w, h), f in cells.items() if f.n} | set(opening_hour_range(cfg.opening_hours if cfg else None)))
    hours = list(range(used[0], used[-1] + 1)) if used else list(range(8, 21))
    svg = heatmap(heat_rows(cells, hours), i18n.weekday_names(ctx.lang), [f"{h:02d}" for h in hours],
                  label=ctx._("Heat map"))
    return render(ctx, "heatmap.html", store=store, days=days, periods=STORE_PERIODS, heat_svg=svg, tz=store.timezone,
                  title=f"{store.name} · {ctx._('Heat map')}", section="trends_home")
