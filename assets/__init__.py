"""Hymy's artwork, keyboard layout and translation catalogs, found through importlib.resources.

Nothing here imports Kivy; callers get plain filesystem paths (the package is installed as files,
never zipped, so ``as_file`` is not needed).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The gettext domain of every catalog (``assets/locale/<lang>/LC_MESSAGES/hymy.mo``).
DOMAIN = "hymy"


def path(*parts: str) -> Path:
    """Filesystem path of a file or folder inside ``assets/``."""
    return Path(str(files(__name__).joinpath(*parts)))


def locale_dir() -> Path:
    """The gettext locale folder (``<lang>/LC_MESSAGES/hymy.po`` and ``.mo``)."""
    return path("locale")


def smiley_svg(mood: int, scale: int) -> Path:
    """The SVG source of a face: ``smileys/face-<scale>-<mood>.svg`` (mood 1 = most negative)."""
    return path("smileys", f"face-{scale}-{mood}.svg")


def keyboard_layout() -> Path:
    """Kivy on-screen keyboard layout with the Nordic letters (å, ä, ö)."""
    return path("keyboard", "nordic.json")
