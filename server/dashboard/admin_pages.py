"""Admin pages: stores (time zone, hours, languages), the question and follow-up texts per language,
users and roles, alert rules. Saving validates with the wire contract's own ``StoreConfig``, so the
dashboard can never store a config a kiosk would refuse."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from hymy.hours import WEEKDAYS, zone
from hymy.protocol import StoreConfig
from hymy.rules import RULE_KINDS

from .. import i18n
from .account import MIN_PASSWORD
from .deps import check_csrf, data, need_role, results_reader, signed_in
from .htmlroute import page_router
from .team_links import links_for_store
from .web import ROLE_KEYS, Ctx, redirect, render, role_names

router = page_router()


def config_from_form(old: StoreConfig, form: Mapping[str, str], langs: list[str]) -> StoreConfig:
    """A new StoreConfig from the admin form; raises ValueError with one sentence per bad field."""
    problems: list[str] = []

    def texts(prefix: str) -> dict | None:
        t = {code: (form.get(f"{prefix}_{code}") or "").strip() or None for code in i18n.LANGS}
        if not any(t.values()):
            return None
        if not t["fi"]:
            problems.append(f"{prefix}: the Finnish text is required")
            t["fi"] = t["en"] or t["sv"]
        return t

    def items(kind: str) -> list[dict]:
        out = []
        for i in range(6):
            rid = (form.get(f"{kind}_{i}_id") or "").strip()
            if not rid:
                continue
            t = texts(f"{kind}_{i}")
            if t is None:
                problems.append(f"{kind} {i + 1} ({rid}): give at least the Finnish text")
                continue
            out.append({"id": rid, "texts": t})
        return out

    hours = {}
    for day in WEEKDAYS:
        raw = (form.get(f"hours_{day}") or "").strip()
        if raw:
            hours[day] = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
    rules = []
    i = 0
    while f"rule_{i}_kind" in form:
        rid = (form.get(f"rule_{i}_id") or "").strip()
        if rid:
            rule = {"id": rid, "kind": form.get(f"rule_{i}_kind"), "local": form.get(f"rule_{i}_local") == "1"}
            for key, conv in (("window_min", int), ("min_count", int), ("threshold", float), ("mood", int)):
                raw = (form.get(f"rule_{i}_{key}") or "").strip()
                if raw:
                    try:
                        rule[key] = conv(raw)
                    except ValueError:
                        problems.append(f"alert rule {rid}: {key} {raw!r} is not a number")
            rules.append(rule)
        i += 1
    scale = int(form.get("scale") or old.question.scale)
    followup = {}
    for m in range(1, scale + 1):
        v = form.get(f"followup_{m}", "none")
        if v in ("reason", "praise"):
            followup[str(m)] = v
    qtexts = texts("question")
    try:
        interval = float(form.get("response_interval_s") or old.response_interval_s)
    except ValueError:
        problems.append("response_interval_s: give seconds as a number, 0-60")
        interval = old.response_interval_s
    if problems:
        raise ValueError("\n".join(problems))
    new = old.model_dump()
    new.update({
        "store_name": (form.get("store_name") or old.store_name).strip(),
        "timezone": (form.get("timezone") or old.timezone).strip(),
        "languages": langs or ["fi"],
        "question": {"id": old.question.id, "texts": qtexts or old.question.texts.model_dump(), "scale": scale},
        "reasons": items("reason"), "praise": items("praise"), "followup": followup,
        "comments_enabled": form.get("comments_enabled") == "1", "opening_hours": hours,
        "response_interval_s": interval, "alert_rules": rules,
    })
    try:
        return StoreConfig.model_validate(new)
    except ValidationError as exc:
        raise ValueError("\n".join(_explain(e) for e in exc.errors())) from None


def _explain(err: dict) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid')}"


def _admin(request: Request) -> Ctx:
    ctx = signed_in(request)
    need_role(ctx, "admin")
    return ctx


@router.get("/admin", name="dash.admin", response_class=HTMLResponse)
def admin_page(request: Request):
    ctx = _admin(request)
    d = data(request)
    stores = d.stores_for(ctx.user)
    return render(ctx, "admin.html", stores=stores, regions=d.regions_of(stores), can_add_store=True,
                  title=ctx._("Admin"))


@router.post("/admin/stores", name="dash.admin_store_add")
async def add_store(request: Request):
    ctx = _admin(request)
    form = await request.form()
    check_csrf(ctx, form.get("csrf_token"))
    name = (form.get("name") or "").strip()
    tz = (form.get("timezone") or "Europe/Helsinki").strip()
    if not name:
        raise HTTPException(422, "name")
    try:
        zone(tz)
    except ValueError:
        raise HTTPException(422, "timezone") from None
    store_id = data(request).add_store(name, tz, form.get("region_id") or None)
    return redirect(ctx.url("admin_store", store_id=store_id))


def _store_page(ctx: Ctx, store_id: str, cfg: StoreConfig | None = None, errors: list[str] | None = None,
                status_code: int = 200, saved: bool = False, revoked: bool = False):
    """The store's admin page: its settings (admins) and its team screen links (admins and whoever may see
    the store's results, ``team_admin``)."""
    d = data(ctx.request)
    store = next((s for s in d.stores_for(ctx.user) if s.id == store_id), None)
    if store is None:
        raise HTTPException(404, "store")
    is_admin = ctx.user.role == "admin"
    cfg = (cfg or d.store_config(store_id)) if is_admin else None
    wd = i18n.weekday_names(ctx.lang, "wide")
    flash = {"kind": "ok", "text": ctx._("Saved. Kiosks pick up the change at their next sync.")} if saved else \
        {"kind": "ok", "text": ctx._("The link is revoked: its screen stops showing anything at its next refresh.")} \
        if revoked else None
    return render(ctx, "admin_store.html", status_code=status_code, store=store, cfg=cfg, errors=errors,
                  weekdays=list(zip(WEEKDAYS, wd, strict=True)), rule_kinds=list(RULE_KINDS.values()), flash=flash,
                  team_links=links_for_store(d.engine, store_id), can_edit=is_admin, title=store.name,
                  when=lambda at: i18n.format_day_time(at.astimezone(zone(store.timezone)), ctx.lang),
                  section="admin" if is_admin else "praise")


@router.get("/admin/stores/{store_id}", name="dash.admin_store", response_class=HTMLResponse)
def store_settings(request: Request, store_id: str, saved: int = 0, revoked: int = 0):
    ctx = results_reader(request)  # managers see the team screen links only (technicians: 403)
    return _store_page(ctx, store_id, saved=bool(saved), revoked=bool(revoked))


@router.post("/admin/stores/{store_id}", name="dash.admin_store_post", response_class=HTMLResponse)
async def save_store(request: Request, store_id: str):
    ctx = _admin(request)
    form = await request.form()
    check_csrf(ctx, form.get("csrf_token"))
    d = data(request)
    old = d.store_config(store_id)
    if old is None or store_id not in {s.id for s in d.stores_for(ctx.user)}:
        raise HTTPException(404, "store")
    flat = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        new = config_from_form(old, flat, [v for v in form.getlist("languages") if v in i18n.LANGS])
    except ValueError as exc:
        return _store_page(ctx, store_id, old, errors=str(exc).split("\n"), status_code=422)
    d.save_store_config(store_id, new)
    return redirect(ctx.url("admin_store", store_id=store_id) + "?saved=1")


@router.get("/admin/users", name="dash.admin_users", response_class=HTMLResponse)
def users_page(request: Request, error: str | None = None, status_code: int = 200):
    ctx = _admin(request)
    d = data(request)
    return render(ctx, "admin_users.html", status_code=status_code, users=d.users(), stores=d.stores_for(ctx.user),
                  regions=d.regions_for(ctx.user), role_names=role_names(ctx.lang), min_len=MIN_PASSWORD,
                  error=error, title=ctx._("Users"), section="admin")


@router.post("/admin/users", name="dash.admin_users_post", response_class=HTMLResponse)
async def add_user(request: Request):
    ctx = _admin(request)
    form = await request.form()
    check_csrf(ctx, form.get("csrf_token"))
    _ = ctx._
    username = (form.get("username") or "").strip()
    password = form.get("password") or ""
    role = form.get("role") or ""
    if role not in ROLE_KEYS:
        return users_page(request, _("Choose a role."), 422)
    if len(password) < MIN_PASSWORD:
        return users_page(request, _("The new password is too short: at least %(n)s characters.", n=MIN_PASSWORD), 422)
    try:
        data(request).add_user(username, password, role, list(form.getlist("store_ids")), list(form.getlist("region_ids")))
    except ValueError as exc:
        return users_page(request, str(exc), 422)
    return redirect(ctx.url("admin_users"))
