"""The smiley artwork: meaning carried by the mouth, Okabe-Ito colours, SVG sources up to date."""

from __future__ import annotations

import assets
from kiosk.ui import faces


def test_faces_svg_sources_match_the_drawing_code():
    for scale in (3, 4, 5):
        for mood in range(1, scale + 1):
            path = assets.smiley_svg(mood, scale)
            assert path.read_text(encoding="utf-8") == faces.face_svg(mood, scale), (
                f"{path.name} is stale; run python -m kiosk.ui.faces")


def test_faces_mouth_shape_differs_for_every_face_without_colour():
    for scale, curves in faces.CURVES.items():
        assert len(curves) == scale
        assert list(curves) == sorted(set(curves)), "curvature must rise strictly from unhappy to happy"
        middles = [faces.mouth_points(c)[len(faces.mouth_points(c)) // 2][1] for c in curves]
        corners = [faces.mouth_points(c)[0][1] for c in curves]
        # smiles: corners above the middle; frowns: below
        for c, mid, corner in zip(curves, middles, corners, strict=True):
            assert (corner - mid > 0) == (c > 0) or c == 0


def test_faces_palette_is_okabe_ito_and_distinct():
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    for scale, colours in faces.PALETTES.items():
        assert len(colours) == len(set(colours)) == scale
        assert set(colours) <= okabe_ito


def test_faces_extremes_have_open_mouths():
    assert faces.is_open_mouth(1, 4) and faces.is_open_mouth(4, 4)
    assert not faces.is_open_mouth(2, 4) and not faces.is_open_mouth(3, 5)


def test_faces_rgba_converts_hex():
    assert faces.rgba("#FF0000", 0.5) == (1.0, 0.0, 0.0, 0.5)
