"""Creating and revoking a store's team screen links, from the store's admin page (``/admin/stores/{id}``).

Who: whoever may see the store's results (``server.auth.visible_store_ids``: admins, the store's
managers, the regional managers of its region); technicians get 403, another store's address 404. Both
forms carry the session's CSRF token. A new link's address is shown once, with its QR code, in the
answer to the form; the database keeps only its token's hash (``team_links``).
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from .deps import check_csrf, data, results_store, signed_in
from .htmlroute import page_router
from .qr import qr_svg
from .team_links import MAX_NAME, create_link, get_link, revoke_link
from .views import StoreRef
from .web import Ctx, is_https, redirect, render

router = page_router()


async def _manager(request: Request, store_id: str) -> tuple[Ctx, StoreRef, dict]:
    """The signed-in user, the store they may manage links of, and the posted form (CSRF checked)."""
    ctx = signed_in(request)
    form = await request.form()
    check_csrf(ctx, form.get("csrf_token"))
    return ctx, results_store(ctx, store_id), form


def link_address(ctx: Ctx, token: str) -> str:
    """The full address of a team screen link: under ``Settings.public_url`` when set, else under the address
    this request came to (``https`` behind a TLS proxy, like the cookies' Secure flag)."""
    path = ctx.url("team", token=token)
    d = data(ctx.request)
    if d.settings.public_url:
        return d.settings.public_url.rstrip("/") + path
    base = str(ctx.request.base_url).rstrip("/")
    if base.startswith("http://") and is_https(ctx.request, d.force_https):
        base = "https://" + base[len("http://"):]
    return base + path


@router.post("/admin/stores/{store_id}/team-links", name="dash.team_link_add", response_class=HTMLResponse)
async def add_link(request: Request, store_id: str):
    ctx, store, form = await _manager(request, store_id)
    name = str(form.get("name") or "").strip() or ctx._("Staff room")
    if len(name) > MAX_NAME:
        raise HTTPException(422, f"name: at most {MAX_NAME} characters")
    link, token = create_link(data(request).engine, store.id, name, ctx.user.id)
    address = link_address(ctx, token)
    return render(ctx, "team_link_created.html", status_code=201, store=store, link=link, address=address,
                  qr=qr_svg(address, title=ctx._("Team screen address")), title=ctx._("Team screen"),
                  section="admin" if ctx.user.role == "admin" else "praise")


@router.get("/admin/stores/{store_id}/team-links", name="dash.team_links")
def links_section(request: Request, store_id: str):
    """Back to the links on the store's page (e.g. after switching language on the page a new link showed:
    the address is never shown again)."""
    ctx = signed_in(request)
    return redirect(ctx.url("admin_store", store_id=results_store(ctx, store_id).id) + "#team")


@router.post("/admin/stores/{store_id}/team-links/{link_id}/revoke", name="dash.team_link_revoke")
async def revoke(request: Request, store_id: str, link_id: int):
    """Revoke the link (again: no change); 404 when it is not one of this store's."""
    ctx, store, _form = await _manager(request, store_id)
    engine = data(request).engine
    if get_link(engine, store.id, link_id) is None:
        raise HTTPException(404, "team link")
    revoke_link(engine, store.id, link_id)
    return redirect(ctx.url("admin_store", store_id=store.id) + "?revoked=1#team")
