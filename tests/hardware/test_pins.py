"""hardware.pins and the device config's ``pins`` section: every message names the key and what is valid."""

from __future__ import annotations

import pytest

from hardware.labels import button_colour, face_name
from hardware.pins import pin_problems, scale_problems
from hymy.errors import ConfigError
from kiosk.config import parse_config


def problems_of(pins: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config({"pins": pins}, "/etc/hymy/kiosk.toml")
    assert err.value.path == "/etc/hymy/kiosk.toml"
    return err.value.problems


def test_pins_a_pin_used_twice_names_both_keys():
    assert problems_of({"buttons": [5, 6, 13, 19], "leds": [17, 27, 22, 5]}) == [
        "pins.leds[3]: 5 is used twice (also pins.buttons[0])"]


def test_pins_outside_2_to_27_is_refused():
    assert problems_of({"buttons": [1, 6, 13, 28]}) == [
        "pins.buttons[0]: 1 is not a usable BCM pin; use 2..27",
        "pins.buttons[3]: 28 is not a usable BCM pin; use 2..27",
    ]


@pytest.mark.parametrize(("bus", "pin"), [("i2c", 3), ("spi", 10), ("uart", 14)])
def test_pins_taken_by_a_reserved_bus_are_refused(bus, pin):
    (problem,) = problems_of({"buttons": [pin, 6, 13, 19], "reserved": [bus]})
    assert problem.startswith(f"pins.buttons[0]: {pin} is taken by {bus.upper()}")
    assert "pins.reserved" in problem


def test_pins_bus_pins_are_free_when_the_bus_is_not_reserved():
    assert parse_config({"pins": {"buttons": [2, 3, 10, 14]}}).pins.buttons == [2, 3, 10, 14]


def test_pins_staff_alert_is_checked_too():
    assert problems_of({"buttons": [5, 6, 13, 19], "staff_alert": 6}) == [
        "pins.staff_alert: 6 is used twice (also pins.buttons[1])"]


def test_pins_one_led_per_button_or_none():
    assert problems_of({"buttons": [5, 6, 13, 19], "leds": [17, 27]}) == [
        "pins.leds: 2 LEDs for 4 buttons; give one LED per button or none"]


def test_pins_colours_name_every_button_or_none():
    (problem,) = problems_of({"buttons": [5, 6, 13, 19], "colours": ["red"]})
    assert problem.startswith("pins.colours: 1 colours for 4 buttons")


def test_pins_every_problem_is_listed_at_once():
    assert len(problems_of({"buttons": [5, 5, 40], "leds": [17]})) == 3


def test_pin_problems_ignores_unwired_pins():
    assert pin_problems([("pins.staff_alert", None)]) == []


def test_scale_problems_fewer_buttons_than_faces_names_pins_buttons():
    (problem,) = scale_problems([5, 6, 13], 4)
    assert problem.startswith("pins.buttons: 3 buttons for a question with 4 faces; fewer buttons than faces")


def test_scale_problems_more_buttons_than_faces_and_fitting_maps():
    assert scale_problems([5, 6, 13, 19, 26], 4)[0].startswith("pins.buttons: 5 buttons for a question with 4 faces")
    assert scale_problems([5, 6, 13], 3) == [] and scale_problems([], 5) == []


def test_labels_name_faces_and_colours():
    assert face_name(1, 4) == "very unhappy" and face_name(4, 4) == "very happy" and face_name(2, 3) == "neutral"
    assert button_colour(3, 4) == "green" and button_colour(0, 4, ["blue"]) == "blue"
