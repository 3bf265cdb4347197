"""Shared parts: gpiozero MockFactory pins (reset after each test), a real Store, a steppable clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hymy.protocol import default_store_config
from kiosk.capture import Recorder
from kiosk.clock import ClockReading
from kiosk.config import parse_config
from kiosk.store import Store

BUTTONS = [5, 6, 13, 19]
LEDS = [17, 27, 22, 23]
LAMP = 18
#: The repository root (subprocess tests run ``python -m hymy`` from here).
ROOT_DIR = Path(__file__).resolve().parents[2]
#: Monday 12:00 in Helsinki.
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class StepClock:
    """The kiosk's wall clock and uptime, moved by the test (never by real time)."""

    def __init__(self, start: datetime = T0):
        self.start = start
        self.now = start

    def __call__(self) -> ClockReading:
        return ClockReading(wall=self.now, synced=True, boot_id="boot-hw",
                            uptime_ms=int((self.now - self.start).total_seconds() * 1000))

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


class Config:
    """The store config the recorder sees; tests change ``current``."""

    def __init__(self, **update):
        self.current = default_store_config().model_copy(update={"timezone": "Europe/Helsinki", **update})

    def __call__(self):
        return self.current


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0, step: float = 0.005) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (bounded: never hangs a test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def device_config(**pins):
    return parse_config({"pins": {"buttons": BUTTONS, "leds": LEDS, **pins}})


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()


@pytest.fixture
def pwm_factory():
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "kiosk.db")
    yield s
    s.close()


@pytest.fixture
def clock():
    return StepClock()


@pytest.fixture
def store_config():
    return Config()


@pytest.fixture
def recorder(store, store_config, clock):
    return Recorder(store, store_config, clock)


def responses(store: Store) -> list[dict]:
    return [e for e in (store.get(i) for i in store.all_ids()) if "mood" in e]


def voids(store: Store) -> list[dict]:
    return [e for e in (store.get(i) for i in store.all_ids()) if e.get("kind") == "void"]
