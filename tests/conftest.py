"""Shared test set-up.

Optional real parts (PostgreSQL, Chromium, Kivy rendering) are skipped with a visible reason on a
machine that lacks them, and are mandatory when HYMY_TEST_REQUIRE names them (``all`` in CI).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Every child process of a test ends with the run, however it ends (tests/procs.py).
from tests.procs import no_leftover_children  # noqa: F401 - the session fixture, active for every test

# Before anything imports Kivy or gpiozero: headless Kivy with its own home, gpiozero's mock pins.
_KIVY_HOME = tempfile.mkdtemp(prefix="hymy-kivy-home-")
os.environ.setdefault("KIVY_HOME", _KIVY_HOME)
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")
os.environ.pop("HYMY_CONFIG", None)

ROOT = Path(__file__).resolve().parent.parent


def required(feature: str) -> bool:
    """True when HYMY_TEST_REQUIRE (comma-separated, or ``all``) makes ``feature`` mandatory."""
    wanted = {w.strip() for w in os.environ.get("HYMY_TEST_REQUIRE", "").split(",") if w.strip()}
    return "all" in wanted or feature in wanted


def need(feature: str, available: bool, reason: str) -> None:
    """Skip (or, when required, fail) the calling test unless ``available``."""
    if available:
        return
    if required(feature):
        pytest.fail(f"{feature} is required here (HYMY_TEST_REQUIRE) but unavailable: {reason}")
    pytest.skip(f"{feature} unavailable: {reason}")


@pytest.fixture
def postgres_url() -> str:
    """A real PostgreSQL URL from HYMY_TEST_POSTGRES_URL (started by .ci/run)."""
    url = os.environ.get("HYMY_TEST_POSTGRES_URL", "")
    need("postgres", bool(url), "set HYMY_TEST_POSTGRES_URL=postgresql+psycopg://user:pw@127.0.0.1/db")
    return url


@pytest.fixture
def chromium_path() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else "")
    need("chromium", bool(path), "install Debian's chromium package (apt-get install chromium)")
    return path
