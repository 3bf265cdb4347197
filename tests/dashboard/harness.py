"""Building a real server app with sample data for the dashboard tests."""

from __future__ import annotations

import re
from contextlib import contextmanager

from server import admin
from server.app import create_app
from server.dashboard.data import DashboardData
from server.dashboard.sample import seed
from server.settings import Settings


def make_app(tmp_path, open_all_day: bool = False, **overrides):
    """``create_app`` over a fresh SQLite file with the dashboard mounted; returns (app, sample).

    The sample stores keep opening hours (a Sunday closes at 18:00), and a press made "now" outside
    them is flagged ``closed`` and never counted: tests that press now and expect it counted pass
    ``open_all_day=True`` (or use :func:`open_around_the_clock`), so they pass at any time of day."""
    # The alerts' background sweep is tested in tests/alerts; here tests evaluate explicitly, so a
    # sweep tick racing a test's own evaluation cannot change what a page shows.
    overrides.setdefault("background_jobs", False)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/server.db", **{"secure_cookies": True, **overrides})
    app = create_app(settings)
    assert isinstance(app.state.dashboard, DashboardData)  # mounted by the app factory
    sample = seed(app.state.engine, days=10, per_day=40)
    if open_all_day:
        for sid in sample.store_ids:
            admin.set_opening_hours(app.state.engine, sid, {})
    return app, sample


@contextmanager
def open_around_the_clock(engine, store_id: str):
    """The store open all day inside the block (its presses "now" count whatever the time), then its
    config as it was (alert rules included)."""
    usual = admin.store_config(engine, store_id)
    admin.set_opening_hours(engine, store_id, {})
    try:
        yield
    finally:
        admin.update_store_config(engine, store_id, usual)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "page has no CSRF token"
    return m.group(1)


def sign_in(client, user: str, password: str, next_: str = "") -> object:
    page = client.get("/login")
    return client.post("/login", data={"username": user, "password": password, "csrf_token": csrf_of(page.text),
                                       "next": next_}, follow_redirects=False)
