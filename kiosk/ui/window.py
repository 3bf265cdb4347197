"""Kivy's process set-up for the kiosk: environment and graphics config, applied BEFORE Kivy's
window exists (Kivy reads them once at import / window creation).

Environment the kiosk sets when not already set (docs/kiosk.md explains each):

- ``KIVY_NO_ARGS=1``: Kivy must not parse ``hymy``'s command line.
- ``KIVY_HOME=<data_dir>/kivy``: Kivy's own config and logs live with the device data, not in ``~``.
- ``KIVY_NO_CONSOLELOG=1`` unless ``HYMY_KIVY_LOG`` is set: journald gets Hymy's log, not Kivy's chatter.
- ``SDL_VIDEODRIVER=kmsdrm`` when there is no X or Wayland display (Raspberry Pi OS Lite).
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.config import DisplaySection


def prepare_environment(data_dir: Path | None = None) -> dict[str, str]:
    """Set the environment variables above (only those not set already); return what was set."""
    wanted = {"KIVY_NO_ARGS": "1"}
    if data_dir is not None:
        wanted["KIVY_HOME"] = str(Path(data_dir).absolute() / "kivy")
    if not os.environ.get("HYMY_KIVY_LOG"):
        wanted["KIVY_NO_CONSOLELOG"] = "1"
        wanted["KIVY_NO_FILELOG"] = "1"
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        wanted["SDL_VIDEODRIVER"] = "kmsdrm"
    done = {}
    for key, value in wanted.items():
        if key not in os.environ:
            os.environ[key] = value
            done[key] = value
    if "KIVY_HOME" in done:
        Path(done["KIVY_HOME"]).mkdir(parents=True, exist_ok=True)
    return done


def graphics_settings(display: DisplaySection) -> dict[tuple[str, str], str]:
    """The Kivy Config values for ``display`` as {(section, key): value} (pure; tested as such).

    The on-screen keyboard docks at the bottom (``keyboard_mode = dock``) with the Nordic layout.
    Width and height are the panel's native size; rotation is applied to the window later
    (``Window.rotation``), which also rotates touch input to match.
    """
    import assets

    return {
        ("graphics", "width"): str(display.width),
        ("graphics", "height"): str(display.height),
        ("graphics", "fullscreen"): "auto" if display.fullscreen else "0",
        ("graphics", "borderless"): "1" if display.fullscreen else "0",
        ("graphics", "show_cursor"): "1" if display.show_cursor else "0",
        ("graphics", "maxfps"): str(display.maxfps),
        ("graphics", "resizable"): "0",
        ("kivy", "keyboard_mode"): "dock",
        ("kivy", "keyboard_layout"): str(assets.keyboard_layout()),
        ("kivy", "exit_on_escape"): "0",
        ("input", "mouse"): "mouse,disable_multitouch",
    }


def configure(display: DisplaySection) -> None:
    """Apply ``graphics_settings`` to Kivy's Config (call before the window is created)."""
    from kivy.config import Config

    for (section, key), value in graphics_settings(display).items():
        if not Config.has_section(section):
            Config.add_section(section)
        Config.set(section, key, value)
