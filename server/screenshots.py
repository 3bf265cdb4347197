"""Screenshots of every dashboard page at 1366x768 (desktop) and 390x844 (phone), in fi, sv and en.

``python -m server.screenshots build/screenshots`` (``make screenshots``) starts a real server
(the whole app, so it lives beside ``server.testing`` rather than inside the dashboard)
on a free loopback port with the demo's sample data (:func:`demo_site`), signs in with a headless
Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright; nothing is downloaded) and writes
``dashboard-<page>-<desktop|phone>-<lang>.png``. The dashboard's acceptance test
(``tests/dashboard/test_phone_acceptance.py``) visits the same pages (:func:`pages`) on the same site and
writes the same files.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORTS = {"desktop": (1366, 768), "phone": (390, 844)}
LANGS = ("fi", "sv", "en")


@dataclass(frozen=True, slots=True)
class Site:
    """A running demo server: ``base_url``, the sample's store ids and users (name -> password), and the
    path of the first store's team screen."""

    base_url: str
    store_ids: list[str]
    passwords: dict[str, str]
    team_path: str
    engine: object


@dataclass(frozen=True, slots=True)
class Shot:
    """One page worth a picture: ``name`` (in the file name), the ``user`` it is seen as ("" = signed out)
    and its ``path``."""

    name: str
    user: str
    path: str


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise SystemExit("screenshots: Chromium not found; install Debian's chromium package")
    return path


def pages(store_id: str, team_path: str) -> list[Shot]:
    """Every dashboard page: sign-in, Today, Day, Trends, Heat map, Compare, Reasons, Praise, Alerts,
    Devices, the admin pages, Account, the team screen and a not-found page."""
    return [Shot(*row) for row in (
        ("login", "", "/login"),
        ("team", "", team_path),
        ("today", "risto", "/today"),
        ("day", "risto", f"/stores/{store_id}/day"),
        ("trends", "risto", f"/stores/{store_id}/trends?days=90"),
        ("trends-365", "risto", f"/stores/{store_id}/trends?days=365"),
        ("heatmap", "risto", f"/stores/{store_id}/heatmap?days=90"),
        ("compare", "risto", "/compare?days=30"),
        ("reasons", "risto", f"/reasons?store={store_id}"),
        ("praise", "risto", f"/praise?store={store_id}"),
        ("alerts", "risto", "/alerts"),
        ("account", "anna", "/account"),
        ("team-links", "anna", f"/admin/stores/{store_id}"),
        ("devices", "admin", "/devices"),
        ("admin", "admin", "/admin"),
        ("admin-store", "admin", f"/admin/stores/{store_id}"),
        ("admin-users", "admin", "/admin/users"),
        ("not-found", "anna", "/stores/no-such-store/day"),
    )]


@contextlib.contextmanager
def demo_site(days: int = 100) -> Iterator[Site]:
    """A real server on loopback over a fresh SQLite file with ``days`` of the demo's sample data, an open
    alert and a team screen link; stopped and deleted on exit."""
    from .dashboard.sample import seed, unhappy_burst
    from .dashboard.team_links import create_link
    from .settings import Settings
    from .testing import serve

    with tempfile.TemporaryDirectory(prefix="hymy-shots-") as tmp:
        # no background jobs: the sample's past alerts come from replaying the alert engine
        settings = Settings(database_url=f"sqlite:///{tmp}/server.db", secure_cookies=False, background_jobs=False)
        with serve(settings) as running:
            engine = running.app.state.engine
            sample = seed(engine, days=days, alerts=running.app.state.alerts)
            unhappy_burst(engine, sample, getattr(running.app.state, "alerts", None), store_index=1)
            _link, token = create_link(engine, sample.store_ids[0], "Taukotila", None)
            yield Site(running.base_url, sample.store_ids, sample.users, f"/team/{token}", engine)


def sign_in(page, base_url: str, user: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_load_state("load")


class Visitor:
    """One browser tab per user (signed in once), moved between viewports and languages: ``open(shot,
    viewport, lang)`` shows a page as that user would see it."""

    def __init__(self, browser, site: Site) -> None:
        self.browser, self.site = browser, site
        self._tabs: dict[str, object] = {}

    def tab(self, user: str):
        if user not in self._tabs:
            ctx = self.browser.new_context(viewport={"width": 1366, "height": 768}, locale="fi-FI",
                                           device_scale_factor=1)
            pg = ctx.new_page()
            if user:
                sign_in(pg, self.site.base_url, user, self.site.passwords[user])
            self._tabs[user] = pg
        return self._tabs[user]

    def open(self, shot: Shot, viewport: str, lang: str):
        pg = self.tab(shot.user)
        w, h = VIEWPORTS[viewport]
        pg.set_viewport_size({"width": w, "height": h})
        pg.context.add_cookies([{"name": "hymy_lang", "value": lang, "url": self.site.base_url}])
        path = shot.path + (("&" if "?" in shot.path else "?") + f"lang={lang}" if shot.name == "team" else "")
        pg.goto(self.site.base_url + path)
        pg.wait_for_load_state("load")
        return pg

    def close(self) -> None:
        for pg in self._tabs.values():
            pg.context.close()
        self._tabs.clear()


def shot_file(out_dir: Path, shot: Shot, viewport: str, lang: str) -> Path:
    return out_dir / f"dashboard-{shot.name}-{viewport}-{lang}.png"


def capture(site: Site, out_dir: Path, langs: tuple[str, ...] = LANGS) -> list[Path]:
    """Every page of :func:`pages` at both viewports in each of ``langs``; returns the files written."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        visitor = Visitor(browser, site)
        try:
            for lang in langs:
                for vp in VIEWPORTS:
                    for shot in pages(site.store_ids[0], site.team_path):
                        pg = visitor.open(shot, vp, lang)
                        f = shot_file(out_dir, shot, vp, lang)
                        pg.screenshot(path=str(f), full_page=True)
                        written.append(f)
        finally:
            visitor.close()
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else "build/screenshots")
    with demo_site() as site:
        files = capture(site, out)
    for f in files:
        print(f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
