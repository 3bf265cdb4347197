"""kiosk.ui.window: the Kivy settings a display config gives, and the environment the kiosk sets."""

from __future__ import annotations

import json
import os

import pytest

import assets
from kiosk.config import parse_config
from kiosk.ui.window import graphics_settings, prepare_environment


def test_window_settings_follow_display_config():
    display = parse_config({"display": {"width": 720, "height": 1280, "fullscreen": True,
                                        "show_cursor": False, "maxfps": 20, "rotation": 90}}).display
    s = graphics_settings(display)
    assert s["graphics", "width"] == "720" and s["graphics", "height"] == "1280"
    assert s["graphics", "fullscreen"] == "auto" and s["graphics", "show_cursor"] == "0"
    assert s["graphics", "maxfps"] == "20"
    assert s["kivy", "keyboard_mode"] == "dock"


def test_window_windowed_development_display():
    s = graphics_settings(parse_config({"display": {"fullscreen": False, "show_cursor": True}}).display)
    assert s["graphics", "fullscreen"] == "0" and s["graphics", "show_cursor"] == "1"


def test_window_keyboard_layout_has_nordic_letters():
    layout = json.loads(assets.keyboard_layout().read_text(encoding="utf-8"))
    keys = {k[1] for row in ("normal_2", "normal_3") for k in layout[row]}
    assert {"å", "ä", "ö"} <= keys


def test_window_environment_without_display_uses_kmsdrm(monkeypatch, tmp_path):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "KIVY_HOME", "HYMY_KIVY_LOG"):
        monkeypatch.delenv(var, raising=False)
    done = prepare_environment(tmp_path)
    assert done["SDL_VIDEODRIVER"] == "kmsdrm"
    assert done["KIVY_HOME"] == str(tmp_path / "kivy") and (tmp_path / "kivy").is_dir()


def test_window_environment_keeps_what_is_set(monkeypatch, tmp_path):
    monkeypatch.setenv("SDL_VIDEODRIVER", "offscreen")
    monkeypatch.setenv("DISPLAY", ":0")
    assert "SDL_VIDEODRIVER" not in prepare_environment(tmp_path)


@pytest.mark.slow
@pytest.mark.kivy
def test_window_screenshots_render_every_screen_in_every_language(tmp_path):
    """``python -m kiosk.ui.screenshots`` at one size: 9 screens x 3 languages, none blank."""
    import subprocess
    import sys

    from PIL import Image

    from kiosk.i18n import LANGUAGES
    from kiosk.ui.screenshots import SCREENS

    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen"}
    run = subprocess.run([sys.executable, "-m", "kiosk.ui.screenshots", str(tmp_path), "--size", "720x1280"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    for lang in LANGUAGES:
        for screen in SCREENS:
            path = tmp_path / f"kiosk-720x1280-{lang}-{screen}.png"
            img = Image.open(path)
            assert img.size == (720, 1280)
            lo, hi = img.convert("L").getextrema()
            assert hi - lo > 60, f"{path.name} looks blank"
