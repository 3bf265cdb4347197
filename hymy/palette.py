"""The one face palette of Hymy: the kiosk's faces, the arcade buttons, the wiring guide, the
dashboard and the reports all colour a face from here. Pure data and two helpers; no I/O.

The colours are from the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), which stays
distinguishable with the common colour-vision deficiencies; still, colour never carries a meaning
alone: every coloured mark has the face's name or its shape (the mouth) beside it.

Per scale, most negative face first, each face has:

- ``hex``: the screen colour (``#RRGGBB``),
- ``name``: the colour's name in English (Okabe-Ito's own names: "vermilion", "sky blue", ...);
  where a customer or manager reads it, it goes through that program's catalogs (the strings are
  message ids),
- ``button``: the arcade-button colour to buy for that face (the nearest of the plain colours arcade
  buttons are sold in: red, orange, yellow, blue, green), the colour a technician is asked to press,
- ``face``: the face's name in English ("very unhappy" ... "very happy"), also a message id,
- ``ink``: the colour for text or marks drawn on ``hex``: of ``INK`` and ``INK_LIGHT`` the one with
  the higher contrast (``INK`` on every face colour, at least 4.8:1, WCAG 2.x; vermilion is the lowest).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Dark ink: eyes, mouths and outlines of the faces, and text on a palette colour.
INK = "#111111"
#: Light ink, for text on a dark colour (none of the face colours needs it today).
INK_LIGHT = "#FFFFFF"
#: The Okabe-Ito colours the faces use: English name -> (hex, the arcade-button colour to buy).
COLOURS: dict[str, tuple[str, str]] = {
    "vermilion": ("#D55E00", "red"),
    "orange": ("#E69F00", "orange"),
    "yellow": ("#F0E442", "yellow"),
    "sky blue": ("#56B4E9", "blue"),
    "bluish green": ("#009E73", "green"),
}
#: Colour names per scale, most negative face first.
SCALE_COLOURS: dict[int, tuple[str, ...]] = {
    3: ("vermilion", "yellow", "bluish green"),
    4: ("vermilion", "orange", "sky blue", "bluish green"),
    5: ("vermilion", "orange", "yellow", "sky blue", "bluish green"),
}
#: Face names per scale, most negative first.
FACE_NAMES: dict[int, tuple[str, ...]] = {
    3: ("unhappy", "neutral", "happy"),
    4: ("very unhappy", "unhappy", "happy", "very happy"),
    5: ("very unhappy", "unhappy", "neutral", "happy", "very happy"),
}


@dataclass(frozen=True, slots=True)
class FaceColour:
    """One face's colour: see the module's docstring for each field."""

    mood: int
    hex: str
    name: str
    button: str
    face: str
    ink: str

    def rgba(self, alpha: float = 1.0) -> tuple[float, float, float, float]:
        return rgba(self.hex, alpha)


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """``#RRGGBB`` -> (r, g, b, a) floats in 0..1 (Kivy's ``Color``); ValueError for anything else."""
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"colour: {hex_colour!r} is not #RRGGBB")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


def luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of ``#RRGGBB``, 0 (black) .. 1 (white)."""
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _a = rgba(hex_colour)
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two ``#RRGGBB`` colours, 1 .. 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def ink_on(hex_colour: str) -> str:
    """The ink (``INK`` or ``INK_LIGHT``) with the higher contrast on ``hex_colour``."""
    return INK if contrast(INK, hex_colour) >= contrast(INK_LIGHT, hex_colour) else INK_LIGHT


def _build(scale: int) -> tuple[FaceColour, ...]:
    out = []
    for mood, (name, face) in enumerate(zip(SCALE_COLOURS[scale], FACE_NAMES[scale], strict=True), start=1):
        hex_colour, button = COLOURS[name]
        out.append(FaceColour(mood, hex_colour, name, button, face, ink_on(hex_colour)))
    return tuple(out)


#: Every scale's faces, most negative first.
PALETTES: dict[int, tuple[FaceColour, ...]] = {scale: _build(scale) for scale in SCALE_COLOURS}


def palette(scale: int) -> tuple[FaceColour, ...]:
    """The faces of a ``scale`` (3, 4 or 5), most negative first; ValueError naming the valid scales."""
    try:
        return PALETTES[scale]
    except (KeyError, TypeError):
        raise ValueError(f"scale: {scale!r} has no palette; use 3, 4 or 5") from None


def face_colour(mood: int, scale: int) -> FaceColour:
    """Face ``mood`` (1 = most negative) of ``scale``; ValueError for a mood outside 1..scale."""
    faces = palette(scale)
    if not isinstance(mood, int) or not 1 <= mood <= scale:
        raise ValueError(f"mood: {mood!r} is not valid for scale {scale}; use 1..{scale} (1 = most negative)")
    return faces[mood - 1]


def hex_colour(mood: int, scale: int) -> str:
    """``hex_colour(1, 4)`` -> ``"#D55E00"``."""
    return face_colour(mood, scale).hex
