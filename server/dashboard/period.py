"""What the results pages share: a store's local today, dates from the query, the period a page shows,
the store the user chose last (remembered across pages), and follow-up answers named in the user's
language (read through ``server.results``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fastapi import HTTPException
from fastapi.responses import Response

from hymy.hours import zone
from hymy.timestamps import utcnow

from .. import results
from ..localtime import parse_day
from .deps import data, need_results
from .views import StoreRef
from .web import Ctx

#: The longest period the reasons and praise pages show, in days (two years).
MAX_PERIOD_DAYS = 366 * 2
#: The cookie remembering the store last chosen ("" for all the user's stores), for a year.
STORE_COOKIE = "hymy_store"
STORE_COOKIE_AGE_S = 365 * 24 * 3600


#: The clock the pages read (aware UTC): one place, so every page agrees on what today is.
clock = utcnow


def now() -> datetime:
    """Aware UTC now, from :data:`clock`."""
    return clock()


def local_today(store: StoreRef) -> date:
    """Today's local date in the store's zone."""
    return now().astimezone(zone(store.timezone)).date()


def parse_date(text: str | None, default: date, name: str = "date") -> date:
    """The local date in query parameter ``name`` (``default`` when absent); 422 naming it when it is not a
    date the server answers about (``server.localtime.parse_day``)."""
    if not text:
        return default
    try:
        return parse_day(text, name)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def store_of(ctx: Ctx, store_id: str) -> tuple[StoreRef, list[StoreRef]]:
    """The store ``store_id`` if this user may see its results, and all the stores they may (for the
    store switcher); 404 otherwise (never saying whether it exists)."""
    need_results(ctx)
    stores = data(ctx.request).stores_for(ctx.user)
    for s in stores:
        if s.id == store_id:
            return s, stores
    raise HTTPException(404, "store")


def remembered(ctx: Ctx, stores: list[StoreRef]) -> StoreRef | None:
    """The store the user chose last (:func:`remember`) if they may still see it; None otherwise or when
    they chose all their stores."""
    wanted = ctx.request.cookies.get(STORE_COOKIE)
    return next((s for s in stores if s.id == wanted), None) if wanted else None


def remember(ctx: Ctx, resp: Response, store: StoreRef | None) -> Response:
    """Remember ``store`` (None: all the user's stores) as the one chosen, so the Trends, Reasons and
    Praise links open it next (``hymy_store`` cookie, HttpOnly, SameSite=Lax, a year)."""
    from .web import is_https

    value = store.id if store else ""
    if ctx.request.cookies.get(STORE_COOKIE) != value:
        resp.set_cookie(STORE_COOKIE, value, max_age=STORE_COOKIE_AGE_S, httponly=True, samesite="lax", path="/",
                        secure=is_https(ctx.request, getattr(ctx.request.state, "force_https", False)))
    return resp


@dataclass(frozen=True, slots=True)
class Period:
    """A period form's choice: every store the user may see (the form's choices), the one chosen (None:
    all of them), the stores counted, and the local dates ``first``..``last``."""

    stores: list[StoreRef]
    store: StoreRef | None
    chosen: list[StoreRef]
    first: date
    last: date

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.chosen]


def period(ctx: Ctx, store_id: str | None, date_from: str | None, date_to: str | None,
           default_days: int = 30) -> Period:
    """The stores and local dates a period page shows: ``store_id`` (404 unless the user may see it), all
    the user's stores when it is "" (the form's "all"), or the store chosen last when it is absent; ``to``
    defaults to today, ``from`` to ``default_days`` before it; swapped when reversed, and at most
    ``MAX_PERIOD_DAYS`` long."""
    if store_id:
        store, stores = store_of(ctx, store_id)
    else:
        need_results(ctx)
        stores = data(ctx.request).stores_for(ctx.user)
        store = remembered(ctx, stores) if store_id is None else None
    chosen = [store] if store else stores
    today = local_today(chosen[0]) if chosen else now().date()
    last = parse_date(date_to, today, "to")
    first = parse_date(date_from, last - timedelta(days=default_days - 1), "from")
    if first > last:
        first, last = last, first
    if (last - first).days > MAX_PERIOD_DAYS:
        first = last - timedelta(days=MAX_PERIOD_DAYS)
    return Period(stores, store, chosen, first, last)


def followup_items(ctx: Ctx, store_ids: list[str], first: date, last: date, kind: str) -> list[tuple[str, int]]:
    """(name in the user's language, count) of the follow-up answers of ``kind`` ("reason" or "praise")
    in ``store_ids`` over the local dates ``first``..``last``, most frequent first."""
    if not store_ids:
        return []
    with data(ctx.request).connect() as conn:
        counts = results.followup_counts(conn, store_ids, first, last, kind)
        names = results.followup_names(conn, store_ids, kind, ctx.lang)
    return [(names.get(c.value, c.value), c.n) for c in counts]
