"""The staff lamp or buzzer: one optional output pin the local alert logic switches on and off.

``kiosk.staffalert.LocalAlertMonitor`` decides *when* (the store's ``local`` alert rules, no
network needed); this module only drives the pin: a gpiozero ``LED`` for a lamp (or a relay driving
one), a ``Buzzer`` for a buzzer, ``pin_factory`` passed down as everywhere in ``hardware``.
"""

from __future__ import annotations

import contextlib
import logging

from hymy.errors import ConfigError

log = logging.getLogger(__name__)

KINDS = ("lamp", "buzzer")


class StaffAlert:
    """A lamp (``kind="lamp"``) or buzzer (``kind="buzzer"``) on BCM ``pin``, off at start.

    ``on()`` steady, ``blink(on_time, off_time)`` in seconds (a buzzer beeps), ``off()``.
    """

    def __init__(self, pin: int, kind: str = "lamp", *, pin_factory=None):
        if kind not in KINDS:
            raise ConfigError(f"pins.staff_alert_kind: {kind!r} is not valid; use lamp or buzzer")
        from gpiozero import LED, Buzzer

        from hardware.gpio import resolve_factory

        self.pin = pin
        self.kind = kind
        cls = Buzzer if kind == "buzzer" else LED
        self.device = cls(pin, initial_value=False, pin_factory=resolve_factory(pin_factory))
        self.mode = "off"

    def on(self) -> None:
        """Steady on."""
        self.device.on()
        self.mode = "on"

    def blink(self, on_time: float = 0.5, off_time: float = 0.5) -> None:
        """Blink (lamp) or beep (buzzer) in the background until ``off()``; times in seconds."""
        if self.kind == "buzzer":
            self.device.beep(on_time=on_time, off_time=off_time)
        else:
            self.device.blink(on_time=on_time, off_time=off_time)
        self.mode = "blink"

    def off(self) -> None:
        self.device.off()
        self.mode = "off"

    @property
    def is_active(self) -> bool:
        """True while the lamp is on or blinking (whatever the pin's level at this instant)."""
        return self.mode != "off"

    def close(self) -> None:
        """Switch off and release the pin (idempotent)."""
        with contextlib.suppress(Exception):
            self.device.off()
        self.device.close()
        self.mode = "off"

    def __repr__(self) -> str:
        return f"<StaffAlert {self.kind} on GPIO{self.pin}: {self.mode}>"


def open_staff_alert(config, *, pin_factory=None) -> StaffAlert | None:
    """The configured lamp/buzzer (``pins.staff_alert``), or None when there is none or GPIO is unavailable.

    ``config`` is a ``kiosk.config.DeviceConfig``. An unavailable GPIO chip or pin factory is logged
    once in plain words; the kiosk keeps working (with a screen, its alert indicator still shows).
    """
    pins = config.pins
    if pins.staff_alert is None:
        return None
    try:
        return StaffAlert(pins.staff_alert, pins.staff_alert_kind, pin_factory=pin_factory)
    except ConfigError:
        raise
    except Exception as exc:  # gpiozero BadPinFactory, lgpio "can not open gpiochip", busy pin...
        from hardware.gpio import describe_gpio_error

        log.error("staff lamp unavailable (GPIO%d): %s; the kiosk keeps working without it",
                  pins.staff_alert, describe_gpio_error(exc))
        return None
