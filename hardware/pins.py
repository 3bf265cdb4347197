"""The pin map (``[pins]`` of the device config) and its rules for the Raspberry Pi 40-pin header (BCM
numbers), checked before any GPIO is touched.

``PinsSection`` is the table's model; the device config (``kiosk.config.DeviceConfig``) composes it.
Pure: imports no gpiozero, so the device config validates on any machine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import Field, model_validator

from hymy.configfile.section import Section

#: BCM GPIO numbers a smiley panel may use (0 and 1 are the HAT ID EEPROM's I2C bus).
USABLE = range(2, 28)
#: Pins taken by a bus when that bus is enabled (config ``pins.reserved``).
BUS_PINS: dict[str, tuple[int, ...]] = {
    "i2c": (2, 3),
    "spi": (7, 8, 9, 10, 11),
    "uart": (14, 15),
}


def pin_problems(named_pins: Iterable[tuple[str, int | None]], reserved: Iterable[str] = ()) -> list[str]:
    """Problems with a pin map, one sentence each, naming the key: ``pins.buttons[2]: 4 is used twice``.

    ``named_pins`` are ``(key, bcm_pin)`` pairs in config order; None means "not wired".
    ``reserved`` names the buses the config says are in use (i2c, spi, uart).
    """
    problems: list[str] = []
    taken_by_bus: dict[int, str] = {}
    for bus in reserved:
        if bus not in BUS_PINS:
            problems.append(f"pins.reserved: {bus!r} is not a bus; use {', '.join(BUS_PINS)}")
            continue
        for pin in BUS_PINS[bus]:
            taken_by_bus[pin] = bus
    first_use: dict[int, str] = {}
    for key, pin in named_pins:
        if pin is None:
            continue
        if not isinstance(pin, int) or isinstance(pin, bool) or pin not in USABLE:
            problems.append(f"{key}: {pin!r} is not a usable BCM pin; use 2..27")
            continue
        if pin in taken_by_bus:
            bus = taken_by_bus[pin]
            problems.append(
                f"{key}: {pin} is taken by {bus.upper()} (pins {', '.join(map(str, BUS_PINS[bus]))}); "
                f"choose another pin or remove {bus!r} from pins.reserved"
            )
        elif pin in first_use:
            problems.append(f"{key}: {pin} is used twice (also {first_use[pin]})")
        else:
            first_use[pin] = key
    return problems


def scale_problems(buttons: list[int], scale: int) -> list[str]:
    """Run-time check of the button count against the question's scale (3, 4 or 5 faces).

    The scale comes from the server's store config, so this cannot be checked when the device file
    is read. One button per face, most negative first; no buttons at all is fine (touchscreen only).
    """
    if not buttons or len(buttons) == scale:
        return []
    if len(buttons) < scale:
        return [
            f"pins.buttons: {len(buttons)} buttons for a question with {scale} faces; fewer buttons than faces "
            f"leaves faces nobody can press; wire one button per face, most negative first"
        ]
    return [
        f"pins.buttons: {len(buttons)} buttons for a question with {scale} faces; wire one button per face, "
        f"most negative first, or change the question's scale on the server"
    ]


#: A BCM GPIO number (``pin_problems`` checks which ones are usable).
Pin = Annotated[int, Field(description="a BCM pin number 2-27, without quotes (GPIO5 is written 5)")]


class PinsSection(Section):
    """The ``[pins]`` table: which BCM pins the buttons, their LEDs and the staff lamp use. Checked as
    a whole when read (``pin_problems``); against the question's scale when used (``scale_problems``)."""

    #: BCM pins of the smiley buttons, most negative face first (3-5 of them; empty = no buttons).
    #: Pins are strict integers: ``"5"`` or ``true`` in the file is a type error, not pin 5 or 1.
    buttons: list[Pin] = Field(default_factory=list, max_length=5, description=(
        "a list of at most 5 BCM pin numbers, one per face, most negative first, e.g. [5, 6, 13, 19]"))
    #: BCM pins of the buttons' LEDs, in the same order (empty = no LEDs).
    leds: list[Pin] = Field(default_factory=list, max_length=5, description=(
        "a list of at most 5 BCM pin numbers, one per button in the same order, e.g. [17, 27, 22, 23]"))
    #: LEDs are on PWM-capable drivers: pulse softly while idle, dim blink for repeats.
    pwm: bool = False
    idle_pulse: bool = True
    staff_alert: Pin | None = None
    staff_alert_kind: Literal["lamp", "buzzer"] = "lamp"
    #: Buses in use on this Pi; their pins may not be used for buttons or LEDs.
    reserved: list[Literal["i2c", "spi", "uart"]] = Field(default_factory=list)
    #: Contact-bounce filter, in milliseconds.
    bounce_ms: int = Field(20, ge=1, le=200)
    #: Colours of the arcade buttons, same order (``hymy hwtest`` asks for them by colour); empty = defaults.
    colours: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _pin_map(self) -> PinsSection:
        named = [(f"pins.buttons[{i}]", p) for i, p in enumerate(self.buttons)]
        named += [(f"pins.leds[{i}]", p) for i, p in enumerate(self.leds)]
        named.append(("pins.staff_alert", self.staff_alert))
        problems = [tuple(p.split(": ", 1)) for p in pin_problems(named, self.reserved)]
        if self.leds and len(self.leds) != len(self.buttons):
            problems.append(("pins.leds", f"{len(self.leds)} LEDs for {len(self.buttons)} buttons; "
                                          "give one LED per button or none"))
        if self.colours and len(self.colours) != len(self.buttons):
            problems.append(("pins.colours", f"{len(self.colours)} colours for {len(self.buttons)} buttons; "
                                             "name every button or none"))
        if problems:
            from hymy.configfile.messages import Problems  # the wording, only when wrong

            raise Problems(problems)
        return self


#: The example pin map of docs/hardware.md (4 or 5 buttons): no I2C, SPI or UART pin is used.
EXAMPLE_BUTTONS = (5, 6, 13, 19, 26)
EXAMPLE_LEDS = (17, 27, 22, 23, 24)
EXAMPLE_STAFF_ALERT = 18


def example_pins(count: int = 4) -> PinsSection:
    """The example pin map of docs/hardware.md with ``count`` buttons and LEDs (at most 5) and a staff lamp."""
    return PinsSection(buttons=list(EXAMPLE_BUTTONS[:count]), leds=list(EXAMPLE_LEDS[:count]),
                       staff_alert=EXAMPLE_STAFF_ALERT)
