"""The maintenance PIN check with lock-out (no Kivy).

The PIN is stored in the device config as an Argon2id hash (``maintenance.pin_hash``), verified with
argon2-cffi. Three wrong PINs lock the pad for a minute; the lock is counted on a monotonic clock so
setting the wall clock does not open it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

MAX_TRIES = 3
LOCK_S = 60.0


class PinResult(StrEnum):
    ok = "ok"
    wrong = "wrong"
    locked = "locked"
    #: no PIN hash configured (or an unreadable one): the maintenance screen stays closed
    disabled = "disabled"


def hash_pin(pin: str) -> str:
    """An Argon2id hash of ``pin`` for ``maintenance.pin_hash``."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(pin)


class PinLock:
    """Checks PINs against ``pin_hash``; ``max_tries`` wrong ones lock it for ``lock_s`` seconds.

    ``clock`` is a monotonic time source in seconds (default ``time.monotonic``).
    """

    def __init__(self, pin_hash: str | None, *, max_tries: int = MAX_TRIES, lock_s: float = LOCK_S,
                 clock: Callable[[], float] = time.monotonic):
        self.pin_hash = pin_hash
        self.max_tries = max_tries
        self.lock_s = lock_s
        self.clock = clock
        self.failures = 0
        self._locked_until = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.pin_hash)

    def locked_for(self) -> float:
        """Seconds the pad stays locked (0 when open)."""
        return max(0.0, self._locked_until - self.clock())

    @property
    def tries_left(self) -> int:
        return max(0, self.max_tries - self.failures)

    def check(self, pin: str) -> PinResult:
        if not self.enabled:
            return PinResult.disabled
        if self.locked_for() > 0:
            return PinResult.locked
        from argon2 import PasswordHasher  # imported when first needed: keeps the kiosk's start fast
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            PasswordHasher().verify(self.pin_hash, pin)
        except VerifyMismatchError:
            return self._fail()
        except (VerificationError, InvalidHashError):
            return PinResult.disabled
        self.failures = 0
        return PinResult.ok

    def _fail(self) -> PinResult:
        self.failures += 1
        if self.failures >= self.max_tries:
            self.failures = 0
            self._locked_until = self.clock() + self.lock_s
            return PinResult.locked
        return PinResult.wrong
