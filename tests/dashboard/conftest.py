"""Fixtures for the dashboard's end-to-end tests: a real server on loopback, a real headless Chromium."""

from __future__ import annotations

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser_factory():
    """Yields a function(chromium_path) -> Browser; closes everything at the end of the module."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browsers = []

    def launch(path: str):
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        browsers.append(b)
        return b

    yield launch
    for b in browsers:
        b.close()
    pw.stop()
