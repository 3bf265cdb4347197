"""End to end in a real headless Chromium against a real Uvicorn server on loopback.

A manager signs in, watches Today update by itself when a kiosk posts a press through the device API,
opens every page, exports CSV; an admin changes the question text and a kiosk's config follows;
wrong password, missing CSRF token and another store's URL are refused.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from uuid6 import uuid7

from hymy.timestamps import format_ts, utcnow
from server import admin
from server.dashboard.sample import DEFAULT_PASSWORD as PW
from server.testing import serve

from .harness import make_app

pytestmark = [pytest.mark.chromium, pytest.mark.slow]


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    app, sample = make_app(tmp_path_factory.mktemp("e2e"), open_all_day=True, secure_cookies=True)
    with serve(app=app) as r:
        yield r.base_url, app, sample


@pytest.fixture
def browser(chromium_path, browser_factory):
    return browser_factory(chromium_path)


def sign_in(page, base: str, user: str, password: str = PW) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_load_state("load")


def enrol_kiosk(base: str, engine, store_id: str) -> str:
    new = admin.create_device(engine, store_id, "e2e kiosk")
    r = httpx.post(base + "/api/v1/enroll", json={"code": new.code, "app_version": "0.1.0"})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def press(base: str, token: str, mood: int) -> None:
    event = {"type": "response", "id": str(uuid7()), "question_id": "q-default", "mood": mood, "scale": 4,
             "source": "touch", "pressed_at": format_ts(utcnow() - timedelta(seconds=1)), "clock_synced": True,
             "boot_id": "e2e", "uptime_ms": 5000, "flags": [], "app_version": "0.1.0"}
    r = httpx.post(base + "/api/v1/responses", json={"events": [event]}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted", r.text


def test_today_updates_live_when_a_kiosk_syncs(running, browser):
    base, app, s = running
    store = s.store_ids[0]
    token = enrol_kiosk(base, app.state.engine, store)
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="fi-FI")
    page = ctx.new_page()
    sign_in(page, base, "anna")
    assert page.url.endswith("/today")
    n_sel = f"#store-{store} [data-n]"
    before = int(page.text_content(n_sel))
    page.evaluate("window.__noReload = 'still here'")
    press(base, token, 4)
    page.wait_for_function(f"() => document.querySelector('{n_sel}').textContent === '{before + 1}'", timeout=5000)
    assert page.evaluate("window.__noReload") == "still here"
    ctx.close()


def test_today_table_for_many_stores_also_updates_live(running, browser, monkeypatch):
    from server.dashboard import today as routes

    base, app, s = running
    monkeypatch.setattr(routes, "COMPACT_FROM", 1)  # the regional manager's 3 stores as table rows
    store = s.store_ids[2]
    token = enrol_kiosk(base, app.state.engine, store)
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fi-FI")
    page = ctx.new_page()
    sign_in(page, base, "risto")
    n_sel = f"tr#store-{store} [data-n]"
    before = int(page.text_content(n_sel))
    page.evaluate("window.__noReload = 1")
    press(base, token, 2)
    page.wait_for_function(f"() => document.querySelector('{n_sel}').textContent === '{before + 1}'", timeout=5000)
    assert page.evaluate("window.__noReload") == 1
    ctx.close()


def test_manager_opens_every_page_and_exports_csv(running, browser):
    base, _app, s = running
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="fi-FI")
    page = ctx.new_page()
    sign_in(page, base, "risto")
    store = s.store_ids[0]
    for label in ("Kehitys", "Vertailu", "Syyt", "Tähtihetket", "Tänään"):
        with page.expect_navigation():
            page.click(f"nav.main >> text={label}")
        assert page.locator("h1").count() == 1
    for path in (f"/stores/{store}/day", f"/stores/{store}/trends?days=365", f"/stores/{store}/heatmap",
                 "/account", "/compare?days=365"):
        resp = page.goto(base + path)
        assert resp.status == 200, path
        assert page.locator("svg.chart, form").count() > 0
    page.goto(base + f"/stores/{store}/trends")
    with page.expect_download() as dl:
        page.click("text=Kaikki vastaukset (CSV)")
    lines = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(lines) > 10 and "mood" in lines[0]
    with page.expect_download() as dl:
        page.click("text=Päivätulokset (CSV)")
    assert len(Path(dl.value.path()).read_text(encoding="utf-8").splitlines()) >= 30
    ctx.close()


def test_admin_changes_question_text_and_the_kiosk_config_follows(running, browser):
    base, app, s = running
    store = s.store_ids[1]
    token = enrol_kiosk(base, app.state.engine, store)
    ctx = browser.new_context(locale="fi-FI")
    page = ctx.new_page()
    sign_in(page, base, "admin")
    for label in ("Laitteet", "Hallinta"):
        with page.expect_navigation():
            page.click(f"nav.main >> text={label}")
    page.click(f"a[href='/admin/stores/{store}']")
    page.fill("#question_fi", "Miten viihdyit tänään?")
    page.fill("#question_en", "Did you enjoy your visit?")
    with page.expect_navigation():
        page.click("#save")
    assert "Tallennettu" in page.text_content(".flash")
    cfg = httpx.get(base + "/api/v1/config", headers={"Authorization": f"Bearer {token}"}).json()
    assert cfg["question"]["texts"]["fi"] == "Miten viihdyit tänään?"
    assert cfg["question"]["texts"]["en"] == "Did you enjoy your visit?"
    page.goto(base + "/admin/users")
    assert page.locator("table.data tbody tr").count() >= 4
    ctx.close()


def test_refusals_wrong_password_missing_csrf_and_other_store(running, browser):
    base, _app, s = running
    ctx = browser.new_context(locale="fi-FI")
    page = ctx.new_page()
    sign_in(page, base, "anna", "not-her-password")
    assert "Väärä käyttäjätunnus tai salasana." in page.text_content(".flash.error")
    sign_in(page, base, "anna")
    status = page.evaluate("""async () => {
        const body = new URLSearchParams({current: 'x', new: 'yyyyyyyyyyyy', again: 'yyyyyyyyyyyy'});
        const r = await fetch('/account', {method: 'POST', body});
        return r.status; }""")
    assert status == 403
    resp = page.goto(base + f"/stores/{s.store_ids[1]}/day")
    assert resp.status == 404 and "Ei löytynyt" in page.text_content("h1")
    resp = page.goto(base + "/devices")
    assert resp.status == 403
    ctx.close()


def test_store_cards_arrow_never_wraps_alone_on_a_phone(running, browser):
    """Whatever the store name's length, the "›" after it stays on the line of the name's last word
    (issue 15: on a 390 px phone it used to wrap onto a line of its own)."""
    base, _app, s = running
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="fi-FI")
    page = ctx.new_page()
    sign_in(page, base, "risto")
    alone = page.evaluate(r"""() => {
        const a = document.querySelector('.card.store h2 a'), name = a.firstChild, go = a.querySelector('.go');
        const alone = [];
        for (let k = 0; k < 60; k++) {
            name.textContent = ('Kauppakeskus Iso Omena ' + 'Matinkylän Länsiväylä'.slice(0, k % 22) + ' '
                                + 'x'.repeat(k % 9)).replace(/\s+$/, '');
            const last = document.createRange();
            last.setStart(name, name.length - 1);
            last.setEnd(name, name.length);
            const rects = last.getClientRects();
            if (Math.abs(rects[rects.length - 1].top - go.getClientRects()[0].top) > 2) alone.push(name.textContent);
        }
        return alone; }""")
    assert alone == []
    ctx.close()
