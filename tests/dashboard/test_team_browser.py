"""The team screen end to end in a real headless Chromium against a real Uvicorn server on loopback: a
manager creates the link on the store's page, the screen opens it without signing in, a kiosk's press
and praise reach the screen with no reload, and revoking the link blanks the screen at its next poll."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from hymy.timestamps import utcnow
from tests.server.conftest import followup, press

from . import test_dashboard_browser as dash_browser
from .test_dashboard_browser import enrol_kiosk, sign_in

pytestmark = [pytest.mark.chromium, pytest.mark.slow]
#: The screen polls every 5 s (``server.dashboard.team.POLL_MS``); a change must show within two polls.
SHOWS_WITHIN_MS = 12_000
# A real server with the sample data on loopback (this module's own), and a Chromium: the dashboard's.
running, browser = dash_browser.running, dash_browser.browser


def post(base: str, token: str, events: list[dict]) -> None:
    r = httpx.post(base + "/api/v1/responses", json={"events": events}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and all(x["status"] == "accepted" for x in r.json()["results"]), r.text


def test_team_screen_updates_itself_and_goes_blank_when_revoked(running, browser):
    base, app, s = running
    store = s.store_ids[0]
    kiosk = enrol_kiosk(base, app.state.engine, store)
    manager = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fi-FI")
    page = manager.new_page()
    sign_in(page, base, "anna")
    page.goto(base + f"/praise?store={store}")
    with page.expect_navigation():
        page.click(f'a[href="/admin/stores/{store}#team"]')
    page.fill("input[name=name]", "Taukotila")
    with page.expect_navigation():
        page.click("text=Luo linkki")
    address = page.text_content("#team-address").strip()
    assert address.startswith(base + "/team/")

    screen_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fi-FI")
    screen = screen_ctx.new_page()
    errors: list[str] = []
    screen.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    screen.goto(address)
    assert screen.text_content("h1").strip() == "Helsinki Kamppi"
    smiles = int(screen.text_content("[data-smiles]"))
    screen.evaluate("window.__noReload = 'still here'")

    r = press(4, at=utcnow() - timedelta(seconds=2))
    post(base, kiosk, [r, followup(r["id"], "praise", "cashier"), followup(r["id"], "comment", "Kiitos Liisa!")])
    screen.wait_for_function(f"() => document.querySelector('[data-smiles]').textContent === '{smiles + 1}'",
                             timeout=SHOWS_WITHIN_MS)
    assert "Kiitos Liisa!" in screen.text_content(".team-messages")
    assert screen.evaluate("window.__noReload") == "still here"
    unhappy = press(1)
    post(base, kiosk, [unhappy, followup(unhappy["id"], "comment", "Jono kassalla")])
    assert "Jono kassalla" not in screen.content()

    assert errors == []  # e.g. nothing refused by the page's Content-Security-Policy

    page.goto(base + f"/admin/stores/{store}")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click('li:has-text("Taukotila") button.danger')
    screen.wait_for_selector("text=Tämä tiiminäytön linkki on poistettu käytöstä.", timeout=SHOWS_WITHIN_MS)
    assert "Kiitos Liisa!" not in screen.content()
    assert [e for e in errors if "410" not in e] == []  # only the revoked link's answers
    manager.close()
    screen_ctx.close()
