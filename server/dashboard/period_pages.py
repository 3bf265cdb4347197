"""Pages over a period and several stores: compare the stores of a region, the reasons given for
unhappiness, and praise (what reaches the staff: the praise messages, the praise options chosen)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from hymy.figures import empty

from .. import i18n, results
from .charts import hbar_chart
from .deps import check_csrf, data, need_role, results_reader
from .htmlroute import page_router
from .period import Period, followup_items, local_today, period, remember
from .team_view import messages
from .views import ranking
from .web import Ctx, redirect, render, safe_next

router = page_router()

#: The most praise messages the Praise page lists (newest first).
PRAISE_MESSAGES = 50
#: The periods (days up to the stores' today) the compare page offers.
COMPARE_DAYS = (1, 7, 30, 90, 365)


@router.get("/compare", name="dash.compare", response_class=HTMLResponse)
def compare_page(request: Request, region: str | None = None, days: int = Query(30)):
    ctx = results_reader(request)
    d = data(request)
    stores = d.stores_for(ctx.user)
    regions = d.regions_of(stores)
    if region and region not in {r.id for r in regions}:
        raise HTTPException(404, "region")
    region_id = region or (regions[0].id if len(regions) == 1 else None)
    chosen = [s for s in stores if region_id is None or s.region_id == region_id]
    days = days if days in COMPARE_DAYS else 30
    rows = []
    if chosen:
        last = max(local_today(s) for s in chosen)
        with d.connect() as conn:
            totals = results.totals(conn, [s.id for s in chosen], last - timedelta(days=days - 1), last)
        rows = [(s, totals.get(s.id) or empty(s.scale)) for s in chosen]
    return render(ctx, "compare.html", ranking=ranking(rows), regions=regions, region_id=region_id, days=days,
                  title=ctx._("Compare stores"))


def _answers(request: Request, kind: str, store_id: str | None, date_from: str | None,
             date_to: str | None) -> tuple[Ctx, Period, list[tuple[str, int]]]:
    """For a user who may see results: the chosen stores and period, and their answers of ``kind``
    (name in the user's language, count), most frequent first."""
    ctx = results_reader(request)
    p = period(ctx, store_id, date_from, date_to)
    return ctx, p, followup_items(ctx, p.ids, p.first, p.last, kind)


def _render(ctx: Ctx, p: Period, items: list[tuple[str, int]], template: str, **values) -> Response:
    """``template`` with the period form's fields and ``items`` filled in, plus ``values``; the store
    chosen (or all) is remembered for the next page."""
    return remember(ctx, render(ctx, template, stores=p.stores, store=p.store, date_from=p.first, date_to=p.last,
                                items=items, **values), p.store)


@router.get("/reasons", name="dash.reasons", response_class=HTMLResponse)
def reasons_page(request: Request, store: str | None = None, from_: str | None = Query(None, alias="from"),
                 to: str | None = None):
    ctx, p, items = _answers(request, "reason", store, from_, to)
    with data(request).connect() as conn:
        negative = sum(f.negative for f in results.totals(conn, p.ids, p.first, p.last).values())
    _ = ctx._
    return _render(ctx, p, items, "reasons.html", total=sum(c for _n, c in items), negative=negative,
                   chart=hbar_chart(items, label=_("Reasons")) if items else "", title=_("Reasons"), page="reasons")


@router.get("/praise", name="dash.praise", response_class=HTMLResponse)
def praise_page(request: Request, store: str | None = None, from_: str | None = Query(None, alias="from"),
                to: str | None = None):
    """What reaches the staff: the praise messages (``results.praise_messages``, the team screen's own) with
    their dates, the counts per praise option, and the way to each store's team screen setup."""
    ctx, p, items = _answers(request, "praise", store, from_, to)
    with data(request).connect() as conn:
        found = results.praise_messages(conn, p.ids, p.first, p.last, limit=PRAISE_MESSAGES)
        names = results.followup_names(conn, p.ids, "praise", ctx.lang)
    shown = messages(found, names, {s.id: s for s in p.chosen}, lambda at: i18n.format_day_time(at, ctx.lang))
    return _render(ctx, p, items, "praise.html", messages=shown, chosen=p.chosen, total=sum(c for _n, c in items),
                   limit=PRAISE_MESSAGES, can_delete=ctx.user.role == "admin", title=ctx._("Praise"), page="praise")


@router.post("/praise/comments/{followup_id}/delete", name="dash.praise_comment_delete")
async def delete_praise_comment(request: Request, followup_id: str):
    """Erase a comment's text (admins, as ``DELETE /api/v1/comments/{id}``): it leaves the Praise page and
    every team screen at their next refresh; counts do not change."""
    ctx = results_reader(request)
    form = await request.form()
    check_csrf(ctx, form.get("csrf_token"))
    need_role(ctx, "admin")
    if not data(request).delete_comment(followup_id):
        raise HTTPException(404, "comment")
    return redirect(safe_next(str(form.get("next") or ""), ctx.url("praise")))
