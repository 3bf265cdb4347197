"""A mock-GPIO press on a buttons-only kiosk process reaches the dashboard's Today page in Chromium.

Processes: ``hymy server`` (SQLite), ``hymy kiosk --no-screen`` (mock pins), ``hymy sync``; the test
only presses the button (the kiosk's development pipe) and watches a real headless Chromium.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.system import PASSWORD, status, wait_until

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def test_gpio_press_shows_on_the_today_page_within_5_s_without_reload(system, chromium_path):
    from playwright.sync_api import sync_playwright

    system.start_server()
    kiosk = system.new_kiosk("k1")
    system.start_kiosk(kiosk)
    system.start_sync(kiosk)
    try:
        wait_until(lambda: status(kiosk)["enrolment"] == "enrolled", 60, "kiosk enrolled")
        wait_until(kiosk.fifo.exists, 60, "kiosk running with its press pipe")
    except AssertionError:
        print(system.logs())
        raise
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="fi-FI")
            page.goto(system.url + "/login")
            page.fill("input[name=username]", "manager")
            page.fill("input[name=password]", PASSWORD)
            page.click("button.primary")
            page.wait_for_load_state("load")
            assert page.url.endswith("/today"), page.url
            n_sel = f"#store-{system.store_id} [data-n]"
            before = int(page.text_content(n_sel))
            page.evaluate("window.__noReload = 'still here'")
            page.wait_for_timeout(500)  # the first poll records the card versions

            kiosk.press(4)
            t0 = time.monotonic()
            wait_until(lambda: kiosk.events("response"), 5, "press stored on the kiosk", 0.02)
            try:
                page.wait_for_function(
                    f"() => document.querySelector('{n_sel}').textContent === '{before + 1}'", timeout=5000)
            except Exception:
                print(system.logs())
                raise
            seen_after = time.monotonic() - t0
            assert page.evaluate("window.__noReload") == "still here"  # live update, no reload
        finally:
            browser.close()
    print(f"press -> dashboard in {seen_after:.2f} s")
    assert seen_after < 5
    ids = [i for i, _ in kiosk.events("response")]
    assert system.response_ids() == ids  # exactly that press, once
    rows = system.query("SELECT source, mood FROM responses")
    assert rows == [("button", 4)]
