"""The pin factory at the edge: which one is in use, plain-words errors, and mock presses for development.

gpiozero picks its factory from ``GPIOZERO_PIN_FACTORY`` (``mock`` in development and tests, ``lgpio``
on a Pi 5 / Bookworm) or tries lgpio, RPi.GPIO, pigpio and its native one in turn.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings

from hymy.errors import HardwareError

log = logging.getLogger(__name__)


def resolve_factory(pin_factory=None):
    """``pin_factory`` if given, else gpiozero's default one (created now).

    gpiozero warns once per library it could not load (lgpio, RPi.GPIO, pigpio, native); those
    warnings are gathered here into one plain-words HardwareError when no factory loads at all, and
    into one log line when a fallback did load.
    """
    if pin_factory is not None:
        return pin_factory
    from gpiozero import Device
    from gpiozero.exc import PinFactoryFallback

    if Device.pin_factory is not None:
        return Device.pin_factory
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PinFactoryFallback)
        try:
            Device.ensure_pin_factory()
        except Exception as exc:
            tried = "; ".join(str(w.message).replace("Falling back from ", "") for w in caught
                              if issubclass(w.category, PinFactoryFallback))
            raise HardwareError(
                f"no GPIO library could be loaded ({tried or exc}); on a Pi install lgpio (python3-lgpio, "
                f"or a venv made with --system-site-packages); elsewhere set GPIOZERO_PIN_FACTORY=mock"
            ) from exc
    fallbacks = [str(w.message) for w in caught if issubclass(w.category, PinFactoryFallback)]
    if fallbacks:
        log.warning("GPIO: using gpiozero's %s pin factory (%s)", type(Device.pin_factory).__name__,
                    "; ".join(fallbacks))
    return Device.pin_factory


def is_mock(factory) -> bool:
    from gpiozero.pins.mock import MockFactory

    return isinstance(factory, MockFactory)


def mock_factory_in_use():
    """gpiozero's pin factory in use when it is a MockFactory (development, the demo), else None
    (real pins, no factory made yet, or gpiozero not installed)."""
    try:
        from gpiozero import Device
    except ImportError:
        return None
    factory = Device.pin_factory
    return factory if factory is not None and is_mock(factory) else None


def prepare_mock_pwm(factory, pins) -> None:
    """On a MockFactory, make ``pins`` PWM-capable (``MockPWMPin``) before a PWMLED claims them.

    Lets ``pins.pwm = true`` run in development (``GPIOZERO_PIN_FACTORY=mock``), whose default
    mock pins cannot do PWM. gpiozero's mock factory refuses a pin asked for with another class than
    the one it was made with, so the factory's default class becomes ``MockPWMPin`` (an input-capable
    subclass of ``MockPin``) for the pins made from now on; pins that already exist are left alone.
    """
    if not is_mock(factory):
        return
    from gpiozero.pins.mock import MockPWMPin

    if not issubclass(factory.pin_class, MockPWMPin):
        factory.pin_class = MockPWMPin
    for p in pins:
        with contextlib.suppress(ValueError):  # already made as a plain MockPin: leave it
            factory.pin(p)


def describe_gpio_error(exc: BaseException) -> str:
    """One plain sentence for why GPIO cannot be used (what a technician can do about it)."""
    if isinstance(exc, HardwareError):
        return str(exc)
    name = type(exc).__name__
    text = str(exc) or name
    low = text.lower()
    if "busy" in low:
        return f"a GPIO pin is busy ({text}); another program (the kiosk service?) holds it"
    if name == "BadPinFactory" or "pin factory" in low:
        return (f"no GPIO library could be loaded ({text}); on a Pi install lgpio (python3-lgpio, or a "
                f"venv made with --system-site-packages); elsewhere set GPIOZERO_PIN_FACTORY=mock")
    if "gpiochip" in low or isinstance(exc, FileNotFoundError):
        return f"no GPIO chip found ({text}); this does not look like a Raspberry Pi"
    if isinstance(exc, PermissionError) or "permission" in low:
        return f"no permission to use GPIO ({text}); add the service user to the gpio group"
    return f"{name}: {text}"


def mock_press(factory, pin: int, hold_s: float = 0.0) -> None:
    """Press and release the button on mock ``pin`` (development: demo keys, ``hwtest --auto``).

    Buttons are wired active-low with the Pi's pull-up: pressed = driven low. ``hold_s`` seconds
    between press and release.
    """
    p = factory.pin(pin)
    p.drive_low()
    if hold_s > 0:
        time.sleep(hold_s)
    p.drive_high()
