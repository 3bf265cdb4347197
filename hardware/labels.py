"""How a technician names a button: its face ("very unhappy") and the arcade button's colour.

Arcade buttons come in a few plain colours, so the defaults follow the usual smiley-terminal
convention (red for the most negative face, dark green for the most positive); a panel wired with
other colours names them in ``pins.colours``. Pure: no gpiozero.
"""

from __future__ import annotations

#: Face names per scale, most negative first.
FACES: dict[int, tuple[str, ...]] = {
    3: ("unhappy", "neutral", "happy"),
    4: ("very unhappy", "unhappy", "happy", "very happy"),
    5: ("very unhappy", "unhappy", "neutral", "happy", "very happy"),
}
#: Default arcade-button colours per scale, most negative first.
COLOURS: dict[int, tuple[str, ...]] = {
    3: ("red", "yellow", "green"),
    4: ("red", "pink", "light green", "dark green"),
    5: ("red", "pink", "yellow", "light green", "dark green"),
}


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
