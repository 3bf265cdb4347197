"""A real, headless Kivy window shared by the kiosk UI tests, and a driver that builds a fresh app
per test (its own Store and store config in tmp_path) and steps Kivy's event loop by hand.

Headless rendering: SDL2's ``offscreen`` video driver with Mesa's llvmpipe (no X, no GPU). Kivy keeps
one window per process, so the window is made once and each test's app attaches its root to it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from tests.conftest import need  # noqa: E402

WIDTH, HEIGHT = 800, 480


@pytest.fixture(scope="session")
def kivy_window():
    try:
        from kivy.config import Config

        for key, value in {"width": WIDTH, "height": HEIGHT, "maxfps": 0, "fullscreen": 0, "resizable": 0}.items():
            Config.set("graphics", key, str(value))
        Config.set("kivy", "keyboard_mode", "dock")
        from kivy.base import EventLoop

        EventLoop.ensure_window()
        window = EventLoop.window
    except Exception as exc:  # pragma: no cover - depends on the machine
        need("kivy", False, f"no headless Kivy window: {exc}")
    need("kivy", window is not None, "Kivy created no window")
    return window


class Driver:
    """Runs one HymyApp inside the shared window: touches, frames, waits."""

    def __init__(self, app, window):
        self.app = app
        self.window = window

    def frames(self, n: int = 2) -> None:
        from kivy.base import EventLoop

        for _ in range(n):
            EventLoop.idle()

    def wait_for(self, predicate, timeout: float = 5.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            self.frames(1)

    def wait_screen(self, name: str, timeout: float = 5.0) -> None:
        self.wait_for(lambda: self.app.manager_current == name, timeout, f"screen {name!r} "
                      f"(now {self.app.manager_current!r})")
        self.frames(2)

    def tap(self, widget, hold: float = 0.0) -> None:
        """A real touch (down, optional hold, up) at the widget's centre, through Kivy's input path."""
        from kivy.tests.common import UnitTestTouch

        self.frames(2)  # let a screen that just changed lay itself out first
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        if hold:
            end = time.monotonic() + hold
            while time.monotonic() < end:
                self.frames(1)
        touch.touch_up()
        self.frames(2)

    def screen(self, name: str):
        return self.app.screen(name)

    def face(self, mood: int, screen: str = "question"):
        return self.screen(screen).ids.faces.faces[mood - 1]

    def button(self, text: str, screen: str | None = None):
        """The visible button whose text is ``text`` on ``screen`` (default: the current one)."""
        from kivy.uix.button import Button

        root = self.screen(screen or self.app.manager_current)
        found = [w for w in root.walk() if isinstance(w, Button) and w.text == text]
        assert found, f"no button {text!r} on {root.name}: " + ", ".join(
            repr(w.text) for w in root.walk() if isinstance(w, Button))
        return found[0]

    def texts(self, screen: str | None = None) -> list[str]:
        from kivy.uix.label import Label

        root = self.screen(screen or self.app.manager_current)
        return [w.text for w in root.walk() if isinstance(w, Label) and w.text]

    def png(self, path: Path) -> Path:
        self.frames(2)
        self.app.root.export_to_png(str(path))
        return path


@pytest.fixture
def window_size(kivy_window):
    """``window_size(w, h)`` resizes the shared window (a portrait Touch Display 2 is 720x1280); the
    window is back at 800x480 after the test."""

    def resize(width: int, height: int) -> None:
        from kivy.base import EventLoop

        kivy_window.size = (width, height)
        for _ in range(3):
            EventLoop.idle()
        assert tuple(kivy_window.size) == (width, height), f"the window did not resize to {width}x{height}"

    yield resize
    kivy_window.size = (WIDTH, HEIGHT)


@pytest.fixture
def make_kiosk(kivy_window, tmp_path):
    """Factory: ``make_kiosk(store_config=..., device={...})`` -> Driver with a started app."""
    from kiosk.config import parse_config
    from kiosk.storeconfig import write_store_config
    from kiosk.ui.app import create_app

    made = []
    count = [0]

    def close(driver):
        app = driver.app
        app.dispatch("on_stop")  # runs shutdown() (closing the kiosk's store) and releases kv's cached ``app``
        if app.root is not None and app.root.parent is not None:
            kivy_window.remove_widget(app.root)
        kivy_window.rotation = 0

    def make(store_config=None, device: dict | None = None, time_scale: float = 0.2, **kwargs):
        data = {"device": {"data_dir": str(tmp_path / f"data{count[0]}"), "clock": "trust"},
                "display": {"fullscreen": False}}
        for key, value in (device or {}).items():
            data.setdefault(key, {}).update(value)
        cfg = parse_config(data)
        if store_config is not None:
            write_store_config(cfg.store_config_path, store_config)
        while made:  # one app at a time in the window (kv's ``app`` follows the running one)
            close(made.pop())
        app = create_app(cfg, time_scale=time_scale, **kwargs)
        app._run_prepare()
        count[0] += 1
        driver = Driver(app, kivy_window)
        made.append(driver)
        driver.frames(3)
        return driver

    yield make
    while made:
        close(made.pop())
    from kiosk.i18n import translator

    translator.switch("fi")
