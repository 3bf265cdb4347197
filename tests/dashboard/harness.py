"""Building a real server app with sample data for the dashboard tests."""

from __future__ import annotations

import re

from server.app import create_app
from server.dashboard.data import DashboardData
from server.dashboard.sample import seed
from server.settings import Settings


def make_app(tmp_path, **overrides):
    """``create_app`` over a fresh SQLite file with the dashboard mounted; returns (app, sample)."""
    # The alerts' background sweep is tested in tests/alerts; here tests evaluate explicitly, so a
    # sweep tick racing a test's own evaluation cannot change what a page shows.
    overrides.setdefault("background_jobs", False)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/server.db", **{"secure_cookies": True, **overrides})
    app = create_app(settings)
    assert isinstance(app.state.dashboard, DashboardData)  # mounted by the app factory
    sample = seed(app.state.engine, days=10, per_day=40)
    return app, sample


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "page has no CSRF token"
    return m.group(1)


def sign_in(client, user: str, password: str, next_: str = "") -> object:
    page = client.get("/login")
    return client.post("/login", data={"username": user, "password": password, "csrf_token": csrf_of(page.text),
                                       "next": next_}, follow_redirects=False)
