"""One store's pages: the day hour by hour, trends over 30/90/365 days, the weekday x hour heat map, and
the store switcher that moves between stores on the same page. Each remembers the store as the one chosen."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from hymy.figures import empty, merge
from hymy.hours import zone

from .. import i18n, results
from ..results import usual
from .charts import PHONE_W, bar_chart, hbar_chart, heatmap, trend_chart
from .deps import data, results_reader, signed_in
from .htmlroute import page_router
from .period import followup_items, local_today, now, parse_date, remember, remembered, store_of
from .views import (
    date_range,
    day_hours,
    heat_rows,
    hour_bars,
    months,
    opening_hour_range,
    trend_points,
    weeks,
)
from .web import redirect, render, verdict_words

router = page_router()

#: The periods (days up to today) the trends and heat map pages offer (``_storehead.html`` links them).
STORE_PERIODS = (30, 90, 365)
#: The store pages the switcher moves between.
STORE_PAGES = ("day", "trends", "heatmap")


@router.get("/stores/{store_id}/day", name="dash.day", response_class=HTMLResponse)
def day_page(request: Request, store_id: str, date_: str | None = Query(None, alias="date")):
    ctx = signed_in(request)
    store, stores = store_of(ctx, store_id)
    d = data(request)
    today = local_today(store)
    day = min(parse_date(date_, today), today)
    until = now().astimezone(zone(store.timezone)).hour if day == today else 23
    with d.connect() as conn:
        got, usual_days = usual.usual_hours(conn, {store.id: store.timezone}, {store.id: day})
        day_verdict = usual.days_so_far(conn, {store.id: store.timezone}, {store.id: day}, {store.id: until})
    hours = got[store.id]
    shown = day_hours(hours, store.open_hours(day))
    verdicts = usual.judge_hours(hours, usual_days[store.id], shown)
    total = merge(hours.values()) if hours else empty(store.scale)
    _ = ctx._
    items = followup_items(ctx, [store.id], day, day, "reason")
    weekday = i18n.weekday_names(ctx.lang, "wide", "stand-alone")[day.weekday()]
    bars, words = hour_bars(hours, shown, verdicts), verdict_words(ctx.lang)
    resp = render(
        ctx, "day.html", store=store, stores=stores, day=day, today=today, tz=store.timezone,
        day_label=i18n.format_long_day(day, ctx.lang), prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1) if day < today else None,
        hours=[(h, hours.get(h) or empty(store.scale), verdicts[h]) for h in shown], total=total,
        result=day_verdict[store.id], weekday=weekday, closed=store.open_hours(day) == [] and not total.n,
        usual_label=_("a usual %(day)s so far", day=weekday) if day == today else _("a usual %(day)s", day=weekday),
        hours_svg=bar_chart(bars, label=_("Happy Index hour by hour"), n_label="N", verdict_words=words),
        hours_svg_phone=bar_chart(bars, label=_("Happy Index hour by hour"), n_label="N", verdict_words=words,
                                  width=PHONE_W, height=230),
        reasons=items, reasons_svg=hbar_chart(items, label=_("Reasons")) if items else "",
        title=store.name, section="today",
    )
    return remember(ctx, resp, store)


@router.get("/trends", name="dash.trends_home")
def trends_home(request: Request):
    """The trends of the store chosen last (Today, a store page, Reasons or Praise), else the first."""
    ctx = results_reader(request)
    stores = data(request).stores_for(ctx.user)
    if not stores:
        return render(ctx, "error.html", status_code=404, heading=ctx._("Trends"), message=ctx._("No stores to show."))
    return redirect(ctx.url("trends", store_id=(remembered(ctx, stores) or stores[0]).id))


@router.get("/stores/go", name="dash.store_go")
def store_go(request: Request, store: str = Query(max_length=64), page: str = "trends", days: int | None = None,
             date_: str | None = Query(None, alias="date")):
    """The store switcher's form: the same store page (``page``: day, trends or heat map, with its period
    or date) for ``store``; 404 for a store the user may not see."""
    ctx = signed_in(request)
    chosen, _stores = store_of(ctx, store)
    page = page if page in STORE_PAGES else "trends"
    url = ctx.url(page, store_id=chosen.id)
    if page == "day" and date_:
        url += f"?date={parse_date(date_, local_today(chosen)).isoformat()}"
    elif page != "day" and days in STORE_PERIODS:
        url += f"?days={days}"
    return redirect(url)


def _store_period(request: Request, store_id: str, days: int, default: int):
    """A store page's store, the user's stores, and its last ``days`` local days (``default`` unless one of
    ``STORE_PERIODS``). Returns (ctx, store, stores, days, first, today)."""
    ctx = signed_in(request)
    store, stores = store_of(ctx, store_id)
    days = days if days in STORE_PERIODS else default
    today = local_today(store)
    return ctx, store, stores, days, today - timedelta(days=days - 1), today


@router.get("/stores/{store_id}/trends", name="dash.trends", response_class=HTMLResponse)
def trends_page(request: Request, store_id: str, days: int = Query(30)):
    ctx, store, stores, days, first, today = _store_period(request, store_id, days, 30)
    d = data(request)
    with d.connect() as conn:
        figs = results.daily_by_store(conn, [store.id], first, today).get(store.id, {})
    span = date_range(first, today)
    pts = trend_points(span, figs, ctx.lang, with_year=first.year != today.year)
    _ = ctx._
    total = merge(figs.values())
    resp = render(
        ctx, "trends.html", store=store, stores=stores, days=days, periods=STORE_PERIODS, total=total,
        trend_svg=trend_chart(pts, label=_("Happy Index per day"), max_labels=6),
        trend_svg_phone=trend_chart(pts, label=_("Happy Index per day"), width=PHONE_W, height=230, max_labels=4),
        weeks=months(span, figs, ctx.lang) if days == 365 else weeks(span, figs, ctx.lang, _("wk")),
        by_month=days == 365, range_label=i18n.format_range(first, today, ctx.lang),
        daily_csv=d.daily_csv_url(store.id, first, today), raw_csv=d.raw_csv_url(store.id, first, today),
        title=f"{store.name} · {_('Trends')}", section="trends_home",
    )
    return remember(ctx, resp, store)


@router.get("/stores/{store_id}/heatmap", name="dash.heatmap", response_class=HTMLResponse)
def heatmap_page(request: Request, store_id: str, days: int = Query(90)):
    ctx, store, stores, days, first, today = _store_period(request, store_id, days, 90)
    d = data(request)
    with d.connect() as conn:
        cells, verdicts = usual.week_vs_rest(conn, store.id, store.timezone, first, today)
    used = sorted({h for (_w, h), f in cells.items() if f.n} | set(opening_hour_range(store.hours)))
    hours = list(range(used[0], used[-1] + 1)) if used else list(range(8, 21))
    names = i18n.weekday_names(ctx.lang)
    grid, hour_labels, words = heat_rows(cells, hours, verdicts), [f"{h:02d}" for h in hours], verdict_words(ctx.lang)
    svg = heatmap(grid, names, hour_labels, label=ctx._("Heat map"), verdict_words=words)
    # the phone's: hours down, weekdays across, as wide as a phone's card
    svg_phone = heatmap(grid, names, hour_labels, label=ctx._("Heat map"), verdict_words=words, transpose=True,
                        cell_w=(PHONE_W - 38) / 7)
    flagged = sorted(((r.q, wd, h, r) for (wd, h), r in verdicts.items() if r.verdict in ("lower", "higher")),
                     key=lambda x: (x[0], x[1], x[2]))
    found = [{"day": names[wd], "span": f"{h:02d}–{(h + 1) % 24:02d}", "result": r} for _q, wd, h, r in flagged]
    resp = render(ctx, "heatmap.html", store=store, stores=stores, days=days, periods=STORE_PERIODS, heat_svg=svg,
                  heat_svg_phone=svg_phone,
                  tz=store.timezone, found=found, range_label=i18n.format_range(first, today, ctx.lang),
                  title=f"{store.name} · {ctx._('Heat map')}", section="trends_home")
    return remember(ctx, resp, store)
