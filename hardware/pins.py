"""Pin-map rules for the Raspberry Pi 40-pin header (BCM numbers), checked before any GPIO is touched.

Pure: imports no gpiozero, so the device config validates on any machine.
"""

from __future__ import annotations

from collections.abc import Iterable

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


#: The example pin map of docs/hardware.md (4 or 5 buttons): no I2C, SPI or UART pin is used.
EXAMPLE_BUTTONS = (5, 6, 13, 19, 26)
EXAMPLE_LEDS = (17, 27, 22, 23, 24)
EXAMPLE_STAFF_ALERT = 18
