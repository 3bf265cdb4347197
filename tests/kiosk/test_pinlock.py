"""kiosk.pinlock: Argon2id PIN check, three wrong PINs lock it for a minute (monotonic clock)."""

from __future__ import annotations

import pytest

from kiosk.pinlock import LOCK_S, PinLock, PinResult, hash_pin


class Ticker:
    def __init__(self):
        self.now = 50.0

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def pin_hash():
    return hash_pin("4321")


def test_pinlock_hash_is_argon2id(pin_hash):
    assert pin_hash.startswith("$argon2id$") and "4321" not in pin_hash


def test_pinlock_right_pin_opens(pin_hash):
    assert PinLock(pin_hash).check("4321") is PinResult.ok


def test_pinlock_three_wrong_pins_lock_for_a_minute(pin_hash):
    t = Ticker()
    lock = PinLock(pin_hash, clock=t)
    assert lock.check("0000") is PinResult.wrong and lock.tries_left == 2
    assert lock.check("1111") is PinResult.wrong and lock.tries_left == 1
    assert lock.check("2222") is PinResult.locked
    assert lock.check("4321") is PinResult.locked  # even the right PIN
    assert lock.locked_for() == pytest.approx(LOCK_S)
    t.now += LOCK_S - 1
    assert lock.check("4321") is PinResult.locked
    t.now += 1.01
    assert lock.locked_for() == 0
    assert lock.check("4321") is PinResult.ok


def test_pinlock_success_resets_the_count(pin_hash):
    lock = PinLock(pin_hash, clock=Ticker())
    lock.check("0")
    lock.check("1")
    assert lock.check("4321") is PinResult.ok
    assert lock.tries_left == 3


def test_pinlock_without_hash_is_disabled():
    assert PinLock(None).check("1234") is PinResult.disabled
    assert PinLock("not-a-hash").check("1234") is PinResult.disabled
