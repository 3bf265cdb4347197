"""Screenshots of every dashboard page at 1366x768 (desktop) and 390x844 (phone).

``python -m server.screenshots build/screenshots`` (``make screenshots``) starts a real server
(the whole app, so it lives beside ``server.testing`` rather than inside the dashboard)
on a free loopback port with sample data (``server.dashboard.sample``), signs in with a headless
Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright; nothing is downloaded) and writes
``dashboard-<page>-<desktop|phone>.png``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORTS = {"desktop": (1366, 768), "phone": (390, 844)}


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise SystemExit("screenshots: Chromium not found; install Debian's chromium package")
    return path


def pages(store_id: str, team_path: str | None = None) -> list[tuple[str, str, str]]:
    """(name, user, path) of every page worth a picture (``team_path``: a team screen link's, no user)."""
    return [*([("team", "", team_path)] if team_path else []),
        ("login", "", "/login"),
        ("today", "risto", "/today"),
        ("day", "risto", f"/stores/{store_id}/day"),
        ("trends", "risto", f"/stores/{store_id}/trends?days=90"),
        ("heatmap", "risto", f"/stores/{store_id}/heatmap?days=90"),
        ("compare", "risto", "/compare?days=30"),
        ("reasons", "risto", "/reasons"),
        ("praise", "risto", "/praise"),
        ("alerts", "risto", "/alerts"),
        ("account", "anna", "/account"),
        ("devices", "admin", "/devices"),
        ("admin", "admin", "/admin"),
        ("admin-store", "admin", f"/admin/stores/{store_id}"),
        ("team-links", "anna", f"/admin/stores/{store_id}"),
        ("admin-users", "admin", "/admin/users"),
        ("not-found", "anna", "/stores/no-such-store/day"),
    ]


def sign_in(page, base_url: str, user: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_load_state("load")


def capture(base_url: str, out_dir: Path, store_id: str, passwords: dict[str, str], lang: str = "fi",
            team_path: str | None = None) -> list[Path]:
    """Sign in as each page's user and write both viewport sizes of every page; returns the files."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for vp_name, (w, h) in VIEWPORTS.items():
                contexts = {}
                for name, user, path in pages(store_id, team_path):
                    if user not in contexts:
                        ctx = browser.new_context(viewport={"width": w, "height": h}, locale="fi-FI",
                                                  device_scale_factor=1)
                        ctx.add_cookies([{"name": "hymy_lang", "value": lang, "url": base_url}])
                        pg = ctx.new_page()
                        if user:
                            sign_in(pg, base_url, user, passwords[user])
                        contexts[user] = pg
                    pg = contexts[user]
                    pg.goto(base_url + path)
                    pg.wait_for_load_state("load")
                    if name == "devices":
                        pg.select_option("select[name=store_id]", index=0)
                        pg.fill("input[name=name]", "Kassa 2")
                        pg.click("form.inline button.primary")
                        pg.wait_for_load_state("load")
                    f = out_dir / f"dashboard-{name}-{vp_name}.png"
                    pg.screenshot(path=str(f), full_page=True)
                    written.append(f)
                for pg in contexts.values():
                    pg.context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else "build/screenshots")
    from .dashboard.sample import seed, unhappy_burst
    from .dashboard.team_links import create_link
    from .db import make_engine
    from .settings import Settings
    from .testing import serve

    with tempfile.TemporaryDirectory(prefix="hymy-shots-") as tmp:
        # the app's alert sweep stays off: the sample's past alerts come from replaying the engine
        settings = Settings(database_url=f"sqlite:///{tmp}/server.db", secure_cookies=False,
                            alert_sweep_s=24 * 3600.0)
        with serve(settings) as running:
            engine = make_engine(settings.database_url)
            sample = seed(engine, days=100, alerts=running.app.state.alerts)
            unhappy_burst(engine, sample, getattr(running.app.state, "alerts", None), store_index=1)
            _link, token = create_link(engine, sample.store_ids[0], "Taukotila", None)
            files = capture(running.base_url, out, sample.store_ids[0], sample.users, team_path=f"/team/{token}")
    for f in files:
        print(f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
