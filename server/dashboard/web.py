"""Rendering and request plumbing shared by the dashboard's pages: Jinja2, language, user, CSRF, cookies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hymy.score import LOW_CONFIDENCE_N

from .. import csrf, i18n
from .charts import faces_bar
from .colours import index_colour, ink

HERE = Path(__file__).parent
STATIC_URL = "/dashboard-static"
LANG_COOKIE_AGE_S = 365 * 24 * 3600

#: Templates are read once per process (``auto_reload`` off): they are part of the installed package, and
#: checking each file's time on every include (once per row of a 100-store table) was a measurable cost.
_env = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def _asset_version() -> str:
    """Changes when a static file changes, so browsers never use a stale stylesheet."""
    stamp = 0
    for p in (HERE / "static").iterdir():
        stamp = max(stamp, int(p.stat().st_mtime))
    return str(stamp)


_ASSET_V = _asset_version()

ROLE_KEYS = ("admin", "regional_manager", "store_manager", "technician")


def face_names(lang: str):
    _ = i18n.gettext_for(lang)

    def names(scale: int) -> list[str]:
        if scale == 3:
            return [_("Unhappy"), _("Neutral"), _("Happy")]
        if scale == 5:
            return [_("Very unhappy"), _("Unhappy"), _("Neutral"), _("Happy"), _("Very happy")]
        return [_("Very unhappy"), _("Unhappy"), _("Happy"), _("Very happy")]

    return names


def verdict_words(lang: str) -> dict[str, str]:
    """What each verdict against the usual is called on a page (``hymy.stats`` verdicts)."""
    _ = i18n.gettext_for(lang)
    return {"lower": _("Lower than usual"), "higher": _("Higher than usual"), "usual": _("Within the usual range"),
            "too_few": _("Too few presses to compare")}


def role_names(lang: str) -> dict[str, str]:
    _ = i18n.gettext_for(lang)
    return {"admin": _("Administrator"), "regional_manager": _("Regional manager"),
            "store_manager": _("Store manager"), "technician": _("Technician")}


@dataclass
class Ctx:
    """Per-request context: language, signed-in user, session id, CSRF token."""

    request: Request
    lang: str
    user: Any = None
    session_id: str | None = None

    @property
    def _(self):
        return i18n.gettext_for(self.lang)

    @property
    def n_(self):
        return i18n.ngettext_for(self.lang)

    @property
    def csrf(self) -> str:
        if self.session_id:
            return csrf.token_for_session(self.session_id)
        return getattr(self.request.state, "prelogin_csrf", "")  # "" on pages without forms (the team screen)

    def url(self, name: str, **params: Any) -> str:
        """The path of the dashboard route ``dash.<name>`` with ``params`` (``url_for``)."""
        return url_for(self.request.app, "dash." + name, params)

    def nav(self) -> list[tuple[str, str]]:
        _ = self._
        role = getattr(self.user, "role", None)
        items: list[tuple[str, str]] = []
        if role != "technician":
            items += [("today", _("Today")), ("trends_home", _("Trends")), ("compare", _("Compare")),
                      ("reasons", _("Reasons")), ("praise", _("Praise")), ("alerts", _("Alerts"))]
        if role in ("admin", "technician"):
            items.append(("devices", _("Devices")))
        if role == "admin":
            items.append(("admin", _("Admin")))
        return items


#: Most paths :func:`url_for` keeps per app before it starts over (a 100-store page builds a few hundred).
URL_CACHE_SIZE = 4096


def url_for(app: Any, name: str, params: dict[str, Any]) -> str:
    """``app.url_path_for(name, **params)`` as a string, remembered per app: the routes of an app never
    change once it serves, so a path depends only on the name and the parameters. FastAPI finds a route
    by trying every route of every included router in turn (an exception per miss), which was 15-40 %
    of a page with a link per row; a page repeats the same few hundred links request after request."""
    cache: dict | None = getattr(app.state, "dash_urls", None)
    if cache is None:
        cache = app.state.dash_urls = {}
    key = (name, *sorted(params.items()))
    try:
        return cache[key]
    except KeyError:
        pass
    except TypeError:  # a parameter that cannot be a key: build it each time
        return str(app.url_path_for(name, **params))
    path = str(app.url_path_for(name, **params))
    if len(cache) >= URL_CACHE_SIZE:
        cache.clear()
    cache[key] = path
    return path


def render(ctx: Ctx, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    html = render_text(ctx, template, **values)
    resp = HTMLResponse(html, status_code=status_code)
    resp.headers["Cache-Control"] = "no-store"
    finish(ctx, resp)
    return resp


def render_text(ctx: Ctx, template: str, **values: Any) -> str:
    lang = ctx.lang
    page = values.pop("page", template.rsplit(".", 1)[0])
    base = {
        "_": ctx._, "n_": ctx.n_, "lang": lang, "user": ctx.user, "csrf": ctx.csrf, "url": ctx.url,
        "static": lambda f: f"{STATIC_URL}/{f}?v={_ASSET_V}",
        "nav": ctx.nav() if ctx.user else [], "section": values.pop("section", page),
        "page": page, "lang_names": list(i18n.LANG_NAMES.items()), "low_n": LOW_CONFIDENCE_N,
        "colour": index_colour, "ink": ink, "face_names": face_names(lang), "request_path": _path_qs(ctx.request),
        "faces_svg": lambda f: faces_bar(list(f.counts), f.scale, face_names(lang)(f.scale), ctx._("Faces")),
        "title": values.get("title", ""), "flash": None, "verdict_words": verdict_words(lang),
        "whole": _whole,
    }
    base.update(values)
    return _env.get_template(template).render(**base)


def _whole(value: float | None) -> int | str:
    """An index as pages show it: whole points, halves up; "–" for none."""
    return "–" if value is None else int(value + 0.5)


def _path_qs(request: Request) -> str:
    q = request.url.query
    return request.url.path + (f"?{q}" if q else "")


def is_https(request: Request, force: bool) -> bool:
    """True behind HTTPS: the request itself, a proxy's X-Forwarded-Proto, or the server setting."""
    return force or request.url.scheme == "https" or \
        request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"


def finish(ctx: Ctx, resp) -> None:
    """Set the pre-login CSRF cookie when a fresh one was made for this request."""
    fresh = getattr(ctx.request.state, "prelogin_fresh", False)
    if fresh:
        resp.set_cookie(csrf.PRELOGIN_COOKIE, ctx.request.state.prelogin_csrf, httponly=True, samesite="strict",
                        secure=is_https(ctx.request, getattr(ctx.request.state, "force_https", False)), path="/")


def redirect(url: str, ctx: Ctx | None = None) -> RedirectResponse:
    resp = RedirectResponse(url, status_code=303)
    if ctx is not None:
        finish(ctx, resp)
    return resp


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths ("/today"), never "//evil" or "https://..."."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
