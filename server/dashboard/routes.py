"""Mounting the dashboard: ``install(app, data)`` includes every page module's own router, the static
files at ``/dashboard-static`` and the handler that turns "not signed in" into a redirect to the login
page. Page modules never import each other's routes; this module is the only one that knows them all.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from . import account, admin_pages, alerts_page, devices, period_pages, store_pages, team, team_admin, today
from .data import DashboardData
from .deps import NeedLogin
from .web import HERE, STATIC_URL, redirect

#: Every page module, each with its own ``router``.
PAGES = (today, store_pages, period_pages, alerts_page, account, admin_pages, devices, team_admin, team)


def install(app: FastAPI, dashboard_data: DashboardData) -> None:
    """Mount the dashboard on ``app`` with ``dashboard_data`` (see ``server.dashboard.data``)."""
    app.state.dashboard = dashboard_data
    for page in PAGES:
        app.include_router(page.router)
    app.mount(STATIC_URL, StaticFiles(directory=str(HERE / "static")), name="dashboard-static")

    @app.exception_handler(NeedLogin)
    async def _need_login(request: Request, exc: NeedLogin):  # noqa: ARG001
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(str(app.url_path_for("dash.login")) + "?next=" + quote(nxt, safe="/"))
