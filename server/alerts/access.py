"""Who may do what with alerts, on top of the server's authorisation (``server.auth``).

- see a store's alerts and channels: whoever may see its results (``visible_store_ids``);
- acknowledge and comment: the same people;
- change or test a store's channels: admins, and store / regional managers who see the store.

A write made with a session cookie (the dashboard) must also show it is not a cross-site form post:
a JSON body (``Content-Type: application/json``, which a foreign page cannot send without CORS)
or the dashboard's CSRF token in ``X-CSRF-Token``. A personal API token needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request

from server import auth


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    store_ids: frozenset[str]

    def can_see(self, store_id: str) -> bool:
        return store_id in self.store_ids

    def can_manage(self, store_id: str) -> bool:
        return self.can_see(store_id) and self.role in ("admin", "regional_manager", "store_manager")


def viewer(request: Request, user: auth.User) -> Viewer:
    with request.app.state.engine.connect() as conn:
        ids = auth.visible_store_ids(conn, user)
    return Viewer(user.display_name or user.username, user.role, frozenset(ids))


def check_write(request: Request) -> None:
    """403 for a cookie-authenticated write that could be a cross-site form post."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
        return
    token = request.headers.get("x-csrf-token")
    if token:
        from server.csrf import check_session_token

        sid = request.cookies.get(request.app.state.settings.session_cookie)
        if check_session_token(sid, token):
            return
    raise HTTPException(403, "csrf: send JSON (Content-Type: application/json) or the X-CSRF-Token header")
