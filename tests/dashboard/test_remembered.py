"""What the dashboard remembers between requests to be quick (route paths, store rows, colours) is always
what it would build afresh: a renamed store or region, changed opening hours are on the next page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from starlette.routing import NoMatchFound

from server import admin
from server import tables as t
from server.dashboard import colours, web
from server.dashboard.sample import DEFAULT_PASSWORD as PW

from .harness import make_app, sign_in


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("remembered"))


def test_url_for_is_the_apps_own_path_and_remembers_only_what_exists(env, monkeypatch):
    app, sample = env
    sid = sample.store_ids[0]
    for name, params in [("dash.today", {}), ("dash.day", {"store_id": sid}), ("dash.trends", {"store_id": sid}),
                         ("dash.day", {"store_id": "Myymälä 1 & co"})]:
        for _ in range(2):  # built, then remembered
            assert web.url_for(app, name, params) == str(app.url_path_for(name, **params))
    size = len(app.state.dash_urls)
    for _ in range(2):
        with pytest.raises(NoMatchFound):
            web.url_for(app, "dash.no_such_page", {})
        with pytest.raises(NoMatchFound):
            web.url_for(app, "dash.day", {})  # a parameter missing
    assert len(app.state.dash_urls) == size
    monkeypatch.setattr(web, "URL_CACHE_SIZE", 5)
    for i in range(20):
        assert web.url_for(app, "dash.day", {"store_id": f"s{i}"}) == f"/stores/s{i}/day"
    assert len(app.state.dash_urls) <= 5


def test_a_renamed_store_and_region_and_new_hours_are_on_the_next_page(env):
    app, sample = env
    sid = sample.store_ids[0]
    engine = app.state.engine
    with TestClient(app) as c:
        assert sign_in(c, "admin", PW, "/today").status_code == 303
        before = c.get("/compare?days=30").text
        assert "Uusi nimi" not in before
        with engine.begin() as conn:
            conn.execute(update(t.stores).where(t.stores.c.id == sid).values(name="Uusi nimi"))
            conn.execute(update(t.regions).where(t.regions.c.id == sample.region_id).values(name="Uusi alue"))
        page = c.get("/compare?days=30").text
        assert "Uusi nimi" in page and "Uusi alue" in page
        new = admin.create_store(engine, "Tyhjä", timezone="Europe/Helsinki", region_id=sample.region_id)
        shut = c.get("/today").text.count("Suljettu tänään")
        assert "Tyhjä" in c.get("/today").text
        admin.set_opening_hours(engine, new, {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
        assert c.get("/today").text.count("Suljettu tänään") == shut + 1


def test_index_colours_are_the_same_remembered_or_not():
    for index in (None, 0, 12.5, 33, 50, 66.6, 100, 120, -3):
        assert colours.index_colour(index) == colours.index_colour.__wrapped__(index)
        fill = colours.index_colour(index)
        assert colours.ink(fill) == colours.ink.__wrapped__(fill)
