"""The smiley artwork as numbers: palette and shapes, shared by the Kivy widget and the SVG sources.

Coordinates are in face units: the face is the circle of radius 1 around (0, 0), y pointing up.
The mouth carries the meaning (readable without colour): a deep frown, a slight frown, a flat line
(neutral, 5 faces only), a slight smile, a wide open smile. The extremes are drawn as open (filled)
mouths so they differ in outline too, not only in curvature. Colours and ink come from Hymy's one
palette (``hymy.palette``, Okabe-Ito), which stays distinguishable with the common colour-vision
deficiencies.
"""

from __future__ import annotations

from hymy.palette import INK, PALETTES, hex_colour, rgba

__all__ = ["INK", "PALETTES", "colour", "curve", "face_svg", "is_open_mouth", "mouth_points", "rgba"]

#: Mouth curvature per scale, most negative first: -1 deep frown .. +1 wide smile.
CURVES: dict[int, tuple[float, ...]] = {
    3: (-1.0, 0.0, 1.0),
    4: (-1.0, -0.45, 0.45, 1.0),
    5: (-1.0, -0.45, 0.0, 0.45, 1.0),
}
EYE_X, EYE_Y, EYE_R = 0.34, 0.28, 0.12
MOUTH_HALF_WIDTH = 0.5
#: Stroke width of the mouth line and the outline, in face units.
STROKE = 0.1
OUTLINE = 0.06


def colour(mood: int, scale: int) -> str:
    """The face's fill colour (``#RRGGBB``) from ``hymy.palette``."""
    return hex_colour(mood, scale)


def curve(mood: int, scale: int) -> float:
    return CURVES[scale][mood - 1]


def is_open_mouth(mood: int, scale: int) -> bool:
    """The extremes (most negative and most positive face) have open, filled mouths."""
    return mood in (1, scale)


def mouth_points(c: float, steps: int = 16) -> list[tuple[float, float]]:
    """The mouth line for curvature ``c`` (-1..1) as points from left to right, in face units.

    A parabola: with c > 0 the middle is lower than the corners (a smile), with c < 0 higher (a frown).
    """
    y0 = -0.42 + c * 0.17
    pts = []
    for i in range(steps + 1):
        x = -MOUTH_HALF_WIDTH + 2 * MOUTH_HALF_WIDTH * i / steps
        y = y0 - c * 0.35 * (1 - (x / MOUTH_HALF_WIDTH) ** 2)
        pts.append((round(x, 4), round(y, 4)))
    return pts


def face_svg(mood: int, scale: int, size: int = 256) -> str:
    """The face as a standalone SVG document (``size`` pixels square); the SVG sources in assets/."""
    half = size / 2
    r = half - OUTLINE * half

    def p(x: float, y: float) -> str:
        return f"{half + x * r:.1f},{half - y * r:.1f}"

    c = curve(mood, scale)
    mouth = mouth_points(c)
    path = "M " + " L ".join(p(x, y) for x, y in mouth)
    if is_open_mouth(mood, scale):
        mouth_el = f'<path d="{path} Z" fill="{INK}" stroke="{INK}" stroke-width="{STROKE * r:.1f}" stroke-linejoin="round"/>'
    else:
        mouth_el = (f'<path d="{path}" fill="none" stroke="{INK}" stroke-width="{STROKE * r:.1f}" '
                    'stroke-linecap="round"/>')
    eyes = "".join(
        f'<circle cx="{half + x * r:.1f}" cy="{half - EYE_Y * r:.1f}" r="{EYE_R * r:.1f}" fill="{INK}"/>'
        for x in (-EYE_X, EYE_X)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">\n'
        f"<title>Hymy face {mood} of {scale}</title>\n"
        f'<circle cx="{half}" cy="{half}" r="{r:.1f}" fill="{colour(mood, scale)}" stroke="{INK}" '
        f'stroke-width="{OUTLINE * half:.1f}"/>\n{eyes}\n{mouth_el}\n</svg>\n'
    )


def write_svgs(folder) -> list:
    """Write every face of every scale as ``face-<scale>-<mood>.svg`` into ``folder``; return the paths."""
    from pathlib import Path

    out = []
    for scale in PALETTES:
        for mood in range(1, scale + 1):
            target = Path(folder) / f"face-{scale}-{mood}.svg"
            target.write_text(face_svg(mood, scale), encoding="utf-8")
            out.append(target)
    return out


if __name__ == "__main__":  # python -m kiosk.ui.faces: regenerate assets/smileys/*.svg
    import assets

    for written in write_svgs(assets.path("smileys")):
        print(written)
