"""Who is asking: the per-request context, sign-in checks, CSRF checks and object-level authorisation."""

from __future__ import annotations

from fastapi import HTTPException, Request

from .. import csrf, i18n
from .web import Ctx

SESSION_COOKIE_DEFAULT = "hymy_session"


class NeedLogin(Exception):
    """Raised by :func:`signed_in`; the router turns it into a redirect to /login (or 401 for JSON)."""


def data(request: Request):
    return request.app.state.dashboard


def context(request: Request) -> Ctx:
    """Language, user and session of this request (user None when not signed in or idle too long)."""
    d = data(request)
    lang = i18n.negotiate(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))
    pre = request.cookies.get(csrf.PRELOGIN_COOKIE)
    request.state.prelogin_fresh = not pre or len(pre) < 32
    request.state.prelogin_csrf = csrf.new_prelogin_token() if request.state.prelogin_fresh else pre
    request.state.force_https = d.force_https
    sid = request.cookies.get(d.session_cookie)
    user = d.user_for_session(sid) if sid else None
    if user is None:
        sid = None
    return Ctx(request=request, lang=lang, user=user, session_id=sid)


def signed_in(request: Request) -> Ctx:
    ctx = context(request)
    if ctx.user is None:
        raise NeedLogin()
    return ctx


def check_csrf(ctx: Ctx, submitted: str | None, allow_prelogin: bool = False) -> None:
    """403 unless the form carried this session's CSRF token (or, before sign-in, the cookie's)."""
    ok = csrf.check_session_token(ctx.session_id, submitted)
    if not ok and allow_prelogin:
        ok = csrf.check_prelogin_token(ctx.request.cookies.get(csrf.PRELOGIN_COOKIE), submitted)
    if not ok:
        raise HTTPException(403, "csrf")


def need_role(ctx: Ctx, *roles: str) -> None:
    if ctx.user.role not in roles:
        raise HTTPException(403, "role")


def need_results(ctx: Ctx) -> None:
    """403 for technicians: they manage devices and see no results."""
    if ctx.user.role == "technician":
        raise HTTPException(403, "role")


def results_reader(request: Request) -> Ctx:
    """:func:`signed_in`, and allowed to see results (:func:`need_results`)."""
    ctx = signed_in(request)
    need_results(ctx)
    return ctx


def results_store(ctx: Ctx, store_id: str):
    """The store if this user may see its results; 404 otherwise (never saying whether it exists)."""
    need_results(ctx)
    for s in data(ctx.request).stores_for(ctx.user):
        if s.id == store_id:
            return s
    raise HTTPException(404, "store")
