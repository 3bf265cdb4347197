"""The button colours a technician is asked for and the wiring guide both follow the one palette."""

from __future__ import annotations

import re
from pathlib import Path

from hardware.labels import COLOURS, button_colour, face_name
from hymy.palette import PALETTES

GUIDE = Path(__file__).parents[2] / "docs" / "hardware.md"
#: Colour words a button could be named with; any of them in the guide must be one of the palette's.
COLOUR_WORDS = r"(?:light |dark )?(?:red|pink|orange|yellow|green|blue|purple|violet|white|black|grey|gray)"


def test_labels_default_button_colours_are_the_palettes():
    for scale, faces in PALETTES.items():
        assert COLOURS[scale] == tuple(f.button for f in faces)
        assert [button_colour(i, scale) for i in range(scale)] == [f.button for f in faces]
        assert [face_name(f.mood, scale) for f in faces] == [f.face for f in faces]


def test_labels_wiring_guide_names_the_palettes_colours_and_no_other_scheme():
    text = GUIDE.read_text(encoding="utf-8")
    buttons = {f.button for faces in PALETTES.values() for f in faces}
    # the colour table: every palette colour with its name, hex and the button to buy
    for faces in PALETTES.values():
        for f in faces:
            assert re.search(rf"\| {f.name} `{f.hex}` \| {f.button} \|", text), f"{f.name} missing from the table"
    # every button the guide names by colour ("the red button", "button 2 (orange)", colours = [...])
    named = re.findall(rf"\b({COLOUR_WORDS}) button", text)
    named += re.findall(rf"\| button \d \((?:most \w+, )?({COLOUR_WORDS})\)", text)
    for line in re.findall(r"^colours = \[(.*?)\]", text, re.M):
        named += re.findall(r'"([^"]+)"', line)
    for line in re.findall(r"^\| \d \| .*arcade push buttons.*$", text, re.M):
        named += re.findall(COLOUR_WORDS, line.split("colours", 1)[1].split("(")[0])
    assert len(named) >= 10, named
    assert set(named) <= buttons, f"colours outside the palette: {set(named) - buttons}"
    for scale, faces in PALETTES.items():
        order = ", ".join(f.button for f in faces)
        assert order in text, f"the {scale}-button order {order!r} is not in the guide"
