"""The dashboard's acceptance test on a phone and a desktop (issue 15): a real server on loopback with the
demo's sample data, one headless Chromium, every page at 390x844 and 1366x768 in fi, sv and en.

Each page: no rendered text under 12 CSS px (SVG chart labels at their size on screen), nothing wider than
the screen outside a marked scroll container (``.scroller``, with its visible "scroll" hint when it
overflows), and no serious or critical axe-core violation. A screenshot of every page lands in
``build/screenshots/`` (the same files ``make screenshots`` writes).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server.screenshots import LANGS, VIEWPORTS, Visitor, chromium_path, demo_site, pages, shot_file

from .phone_checks import MIN_PX, axe_serious, overflow, small_text

pytestmark = [pytest.mark.chromium, pytest.mark.slow]

OUT = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SHOTS = {s.name: s for s in pages("STORE", "/team/TOKEN")}


@pytest.fixture(scope="module")
def site():
    with demo_site(days=60) as s:
        yield s


@pytest.fixture(scope="module")
def visitor(site, browser_factory):
    v = Visitor(browser_factory(chromium_path()), site)
    yield v
    v.close()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(SHOTS))
def test_page_is_readable_and_accessible(site, visitor, name, viewport, lang):
    shot = next(s for s in pages(site.store_ids[0], site.team_path) if s.name == name)
    page = visitor.open(shot, viewport, lang)
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot_file(OUT, shot, viewport, lang)), full_page=True)
    problems = []
    if tiny := small_text(page):
        problems.append(f"text under {MIN_PX} px: {tiny[:8]}")
    o = overflow(page)
    if o["scrollWidth"] > o["innerWidth"]:
        problems.append(f"page {o['scrollWidth']} px wide in a {o['innerWidth']} px viewport")
    if o["unmarked"]:
        problems.append(f"scrolls without being a marked .scroller: {o['unmarked']}")
    if o["hintless"]:
        problems.append(f"scroller overflows without a visible hint: {o['hintless']}")
    if serious := axe_serious(page):
        problems.append(f"axe: {serious}")
    assert not problems, "\n".join(problems)
