"""The staff team screen: ``/team/{token}`` (the page) and ``/team/{token}/live.json`` (its poll).

Opened by a store's team screen link (``team_links``), without signing in: the token is the only
credential, and it opens exactly one store. The page shows only good news (``team_view``) in large type,
in the store's first language (``?lang=fi|sv|en`` switches), and keeps itself up to date with the same
poll as Today (``dashboard.js``: the board's HTML and a version; replaced only when it changed). Without
JavaScript it refreshes itself once a minute. A revoked link answers 410, an unknown one 404, each with
a plain page (the script reloads on either, so a revoked screen goes blank at its next poll).
"""

from __future__ import annotations

import hashlib
from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hymy.hours import zone

from .. import i18n, results
from .deps import data
from .htmlroute import page_router
from .period import local_today, now
from .team_links import open_link
from .team_view import MESSAGES, TeamBoard, team_board, week_of
from .views import StoreRef
from .web import Ctx, render, render_text

router = page_router()

#: How often the page polls, in milliseconds (every fifth of that while the tab is hidden).
POLL_MS = 5000
#: Sent with every team screen answer: nothing cached, no referrer (the token is in the address), not
#: indexed, and a policy that lets the page load only its own stylesheet and script and poll its own origin.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'",
}


class Gone(Exception):
    """The link does not open a store: ``status`` 404 (never issued, or its store is gone) or 410 (revoked)."""

    def __init__(self, status: int, lang: str):
        super().__init__(status)
        self.status = status
        self.lang = lang


def _lang(asked: str | None, store: StoreRef | None) -> str:
    """``?lang=`` when it is one of ours, else the store's first language, else Finnish."""
    if asked in i18n.LANGS:
        return asked
    for code in store.languages if store else ():
        if code in i18n.LANGS:
            return code
    return i18n.DEFAULT_LANG


def _open(request: Request, token: str, lang: str | None) -> tuple[Ctx, StoreRef]:
    """The store ``token`` opens and the context to render it in; raises :class:`Gone`."""
    d = data(request)
    opened = open_link(d.engine, token)
    store = d.store(opened.store_id) if opened else None
    if opened is None or store is None:
        raise Gone(404, _lang(lang, None))
    if opened.revoked:
        raise Gone(410, _lang(lang, store))
    return Ctx(request=request, lang=_lang(lang, store)), store


def board(ctx: Ctx, store: StoreRef) -> TeamBoard:
    """Read the team screen of ``store`` (today in its zone, and the week up to today)."""
    today = local_today(store)
    first, last = week_of(today)
    with data(ctx.request).connect() as conn:
        days = results.daily_by_store(conn, [store.id], first, last).get(store.id, {})
        cells = results.weekday_hour(conn, store.id, store.timezone, first, last)
        newest = results.praise_messages(conn, [store.id], today, today, limit=MESSAGES)
        with_comment = results.praise_messages(conn, [store.id], today, today, limit=MESSAGES, with_comment=True)
        names = results.followup_names(conn, [store.id], "praise", ctx.lang)
        praise_today = results.followup_counts(conn, [store.id], today, today, "praise")
        praise_week = results.followup_counts(conn, [store.id], first, last, "praise")
    return team_board(store, today, days, cells, newest, with_comment, names, praise_today, praise_week)


def _board_html(ctx: Ctx, store: StoreRef) -> tuple[str, str]:
    """The board's HTML (its element ``store-<id>`` carries the version, as Today's cards do) and its
    version: a hash of the board's content, so any change (a deleted comment too) reaches the screen."""
    b = board(ctx, store)
    inner = render_text(ctx, "_team_board.html", b=b, day_label=i18n.format_long_day(b.today, ctx.lang),
                        day=lambda d: i18n.format_day(d, ctx.lang))
    version = hashlib.sha256(inner.encode()).hexdigest()[:16]
    return f'<div class="board" id="store-{escape(store.id)}" data-version="{version}">{inner}</div>', version


def _gone(request: Request, exc: Gone) -> Response:
    ctx = Ctx(request=request, lang=exc.lang)
    return _secure(render(ctx, "team_gone.html", status_code=exc.status, gone=exc.status == 410,
                          title=ctx._("Team screen")))


def _secure(resp: Response) -> Response:
    resp.headers.update(HEADERS)
    return resp


@router.get("/team/{token}", name="dash.team", response_class=HTMLResponse)
def team_page(request: Request, token: str, lang: str | None = None):
    try:
        ctx, store = _open(request, token, lang)
    except Gone as exc:
        return _gone(request, exc)
    html, _version = _board_html(ctx, store)
    poll = ctx.url("team_json", token=token) + f"?lang={ctx.lang}"
    return _secure(render(ctx, "team.html", store=store, board_html=html, poll=poll,
                          poll_ms=POLL_MS, title=f"{store.name} · {ctx._('Team screen')}"))


@router.get("/team/{token}/live.json", name="dash.team_json")
def team_json(request: Request, token: str, lang: str | None = None):
    """The board as the page's script wants it: ``{"stores": [{"id", "version", "html"}], "at"}``."""
    try:
        ctx, store = _open(request, token, lang)
    except Gone as exc:
        return _secure(JSONResponse({"detail": "revoked" if exc.status == 410 else "not found"},
                                    status_code=exc.status))
    html, version = _board_html(ctx, store)
    at = now().astimezone(zone(store.timezone)).strftime("%H:%M:%S")
    return _secure(JSONResponse({"stores": [{"id": store.id, "version": version, "html": html}], "at": at}))
