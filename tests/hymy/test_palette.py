"""hymy.palette: the one face palette (Okabe-Ito), its names, inks and the helpers."""

from __future__ import annotations

import pytest

from hymy import palette
from hymy.score import SCALES

OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}


@pytest.mark.parametrize("scale", SCALES)
def test_palette_every_scale_has_distinct_okabe_ito_colours_most_negative_first(scale):
    faces = palette.palette(scale)
    assert [f.mood for f in faces] == list(range(1, scale + 1))
    hexes = [f.hex for f in faces]
    assert len(set(hexes)) == scale and set(hexes) <= OKABE_ITO
    assert len({f.name for f in faces}) == len({f.button for f in faces}) == scale
    # the ends are the same colours on every scale, so a 3-face and a 5-face kiosk read alike
    assert faces[0].name == "vermilion" and faces[-1].name == "bluish green"


@pytest.mark.parametrize("scale", SCALES)
def test_palette_ink_is_readable_on_every_face_colour(scale):
    for face in palette.palette(scale):
        assert palette.contrast(face.ink, face.hex) >= 4.5, face  # WCAG AA for normal text


def test_palette_face_names_follow_the_scale():
    assert [f.face for f in palette.palette(4)] == ["very unhappy", "unhappy", "happy", "very happy"]
    assert palette.face_colour(2, 3).face == palette.face_colour(3, 5).face == "neutral"


def test_palette_helpers():
    assert palette.hex_colour(1, 4) == "#D55E00"
    assert palette.rgba("#FF0000", 0.5) == (1.0, 0.0, 0.0, 0.5)
    assert palette.face_colour(4, 4).rgba() == palette.rgba("#009E73")
    assert palette.contrast("#000000", "#FFFFFF") == pytest.approx(21)
    assert palette.ink_on("#000000") == palette.INK_LIGHT and palette.ink_on("#F0E442") == palette.INK


def test_palette_bad_input_names_what_is_valid():
    with pytest.raises(ValueError, match="scale: 6 has no palette; use 3, 4 or 5"):
        palette.palette(6)
    with pytest.raises(ValueError, match=r"mood: 5 is not valid for scale 4; use 1..4"):
        palette.face_colour(5, 4)
    with pytest.raises(ValueError, match="not #RRGGBB"):
        palette.rgba("red")
