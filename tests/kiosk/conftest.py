"""The kiosk's tests share the hardware tests' gpiozero mock pin factories (reset after each test)."""

from tests.hardware.conftest import factory, pwm_factory  # noqa: F401
