"""How a technician names a button: its face ("very unhappy") and the arcade button's colour.

Both come from Hymy's one palette (``hymy.palette``): each face's screen colour has the arcade-button
colour nearest to it (vermilion -> red, orange, yellow, sky blue -> blue, bluish green -> green), so
the buttons look like the faces on the screen. A panel wired with other colours names them in
``pins.colours``. Pure: no gpiozero.
"""

from __future__ import annotations

from hymy.palette import FACE_NAMES, PALETTES

#: Face names per scale, most negative first.
FACES: dict[int, tuple[str, ...]] = FACE_NAMES
#: Default arcade-button colours per scale, most negative first (the palette's ``button`` colours).
COLOURS: dict[int, tuple[str, ...]] = {scale: tuple(f.button for f in faces) for scale, faces in PALETTES.items()}


def face_name(mood: int, scale: int) -> str:
    """``face_name(4, 4)`` -> ``"very happy"``; a number for a scale we have no names for."""
    names = FACES.get(scale)
    return names[mood - 1] if names and 1 <= mood <= len(names) else f"face {mood}"


def button_colour(index: int, count: int, colours: list[str] | tuple[str, ...] = ()) -> str:
    """The colour of button ``index`` (0-based) of ``count``: ``colours`` from the config, else the default."""
    if index < len(colours):
        return colours[index]
    defaults = COLOURS.get(count)
    return defaults[index] if defaults and index < len(defaults) else f"button {index + 1}"
