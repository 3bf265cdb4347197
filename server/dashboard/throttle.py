"""Login throttling: after too many failed sign-ins for one user name or one address, wait.

Pure and clock-injectable. Defaults: 5 failures within 15 minutes lock that user name (and,
separately, 20 failures from one address lock the address) until the oldest failure leaves the window.
State is per server process: a second instance behind a load balancer doubles the allowance at worst,
which still stops password guessing at a few attempts a minute (docs/dashboard.md says why this is
acceptable). A successful sign-in clears the user name's failures.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    """Counts failed sign-ins per key in a sliding window (seconds)."""

    def __init__(self, max_per_user: int = 5, max_per_address: int = 20, window_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.window_s = window_s
        self._clock = clock
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] >= self.window_s:
            q.popleft()
        if not q:
            self._fails.pop(key, None)
            q = deque()
        return q

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until another attempt is allowed for this user name / address; 0 when allowed now."""
        now = self._clock()
        with self._lock:
            wait = 0.0
            for key, limit in ((f"u:{username.lower()}", self.max_per_user), (f"a:{address}", self.max_per_address)):
                q = self._prune(key, now)
                if len(q) >= limit:
                    wait = max(wait, self.window_s - (now - q[len(q) - limit]))
            return int(wait + 0.999)

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (f"u:{username.lower()}", f"a:{address}"):
                q = self._prune(key, now)
                q.append(now)
                self._fails[key] = q

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop(f"u:{username.lower()}", None)
