"""The smiley artwork: meaning carried by the mouth, the one palette's colours, SVG sources up to date."""

from __future__ import annotations

import assets
from hymy import palette
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


def test_faces_are_coloured_from_the_one_palette():
    """The kiosk keeps no colours of its own: each face and the ink are hymy.palette's."""
    for scale, colours in palette.PALETTES.items():
        assert [faces.colour(f.mood, scale) for f in colours] == [f.hex for f in colours]
        for f in colours:
            assert f'fill="{f.hex}"' in faces.face_svg(f.mood, scale)
    assert faces.INK == palette.INK


def test_faces_extremes_have_open_mouths():
    assert faces.is_open_mouth(1, 4) and faces.is_open_mouth(4, 4)
    assert not faces.is_open_mouth(2, 4) and not faces.is_open_mouth(3, 5)
