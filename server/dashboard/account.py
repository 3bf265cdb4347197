"""Sign-in, sign-out, password change and the language choice."""

from __future__ import annotations

from fastapi import Form, Request
from fastapi.responses import HTMLResponse

from .. import i18n
from .deps import check_csrf, context, data, signed_in
from .htmlroute import page_router
from .web import LANG_COOKIE_AGE_S, is_https, redirect, render, role_names, safe_next

router = page_router()

MIN_PASSWORD = 12


def _session_cookie(request: Request, resp, sid: str | None) -> None:
    d = data(request)
    if sid is None:
        resp.delete_cookie(d.session_cookie, path="/")
        return
    resp.set_cookie(d.session_cookie, sid, httponly=True, samesite="lax", path="/",
                    secure=d.secure_cookies and is_https(request, d.force_https))


@router.get("/login", name="dash.login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None):  # noqa: A002
    ctx = context(request)
    if ctx.user is not None:
        return redirect(safe_next(next, ctx.url("root")))
    return render(ctx, "login.html", next=safe_next(next, ""), username="", error=None, title=ctx._("Sign in"))


@router.post("/login", name="dash.login_post", response_class=HTMLResponse)
def login(request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("")):  # noqa: A002
    ctx = context(request)
    _ = ctx._
    check_csrf(ctx, csrf_token, allow_prelogin=True)
    d = data(request)
    address = request.client.host if request.client else "?"
    attempt = d.throttle.begin(username, address)  # recorded as a failure until it succeeds
    wait = d.throttle.retry_after(attempt)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        msg = _("Too many failed sign-ins. Try again in %(m)s minutes.", m=minutes)
        resp = render(ctx, "login.html", status_code=429, next=safe_next(next, ""), username=username, error=msg,
                      title=_("Sign in"))
        resp.headers["Retry-After"] = str(wait)
        return resp
    user = d.authenticate(username, password)
    if user is None:
        return render(ctx, "login.html", status_code=401, next=safe_next(next, ""), username=username,
                      error=_("Wrong user name or password."), title=_("Sign in"))
    d.throttle.succeeded(username, attempt)
    if ctx.session_id:  # a new id at every sign-in: an id planted before it is worth nothing after
        d.end_session(ctx.session_id)
    old = request.cookies.get(d.session_cookie)
    if old:
        d.end_session(old)
    sid = d.create_session(user)
    resp = redirect(safe_next(next, str(request.app.url_path_for("dash.root"))))
    _session_cookie(request, resp, sid)
    return resp


@router.post("/logout", name="dash.logout")
def logout(request: Request, csrf_token: str = Form("")):
    ctx = context(request)
    if ctx.session_id:
        check_csrf(ctx, csrf_token)
        data(request).end_session(ctx.session_id)
    resp = redirect(ctx.url("login"))
    _session_cookie(request, resp, None)
    return resp


@router.get("/account", name="dash.account", response_class=HTMLResponse)
def account_page(request: Request):
    ctx = signed_in(request)
    return render(ctx, "account.html", role_label=role_names(ctx.lang)[ctx.user.role], min_len=MIN_PASSWORD,
                  error=None, title=ctx._("Account"))


@router.post("/account", name="dash.account_post", response_class=HTMLResponse)
def change_password(request: Request, current: str = Form(""), new: str = Form(""), again: str = Form(""),
                    csrf_token: str = Form("")):
    ctx = signed_in(request)
    check_csrf(ctx, csrf_token)
    _ = ctx._
    d = data(request)
    error = None
    if new != again:
        error = _("The new passwords differ.")
    elif len(new) < MIN_PASSWORD:
        error = _("The new password is too short: at least %(n)s characters.", n=MIN_PASSWORD)
    elif d.authenticate(ctx.user.username, current) is None:
        error = _("The current password is wrong.")
    if error:
        return render(ctx, "account.html", status_code=400, role_label=role_names(ctx.lang)[ctx.user.role],
                      min_len=MIN_PASSWORD, error=error, title=_("Account"))
    sid = d.change_password(ctx.user, new, keep_session=ctx.session_id)
    resp = render(ctx, "account.html", role_label=role_names(ctx.lang)[ctx.user.role], min_len=MIN_PASSWORD,
                  error=None, flash={"kind": "ok", "text": _("Password changed. Other sessions were signed out.")},
                  title=_("Account"))
    if sid and sid != ctx.session_id:
        _session_cookie(request, resp, sid)
    return resp


@router.post("/lang", name="dash.set_lang")
def set_lang(request: Request, lang: str = Form("fi"), next: str = Form("/"), csrf_token: str = Form("")):  # noqa: A002
    ctx = context(request)
    check_csrf(ctx, csrf_token, allow_prelogin=True)
    if lang not in i18n.LANGS:
        lang = i18n.DEFAULT_LANG
    resp = redirect(safe_next(next, ctx.url("root")), ctx)
    resp.set_cookie(i18n.LANG_COOKIE, lang, max_age=LANG_COOKIE_AGE_S, samesite="lax", path="/",
                    secure=data(request).secure_cookies and is_https(request, data(request).force_https))
    if ctx.user is not None:
        data(request).set_user_lang(ctx.user, lang)
    return resp
