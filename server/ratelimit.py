"""Fixed-window rate limits per key (device id, client IP), in this process.

State is per server instance, in memory: with N instances behind a balancer a client may get up to N
times the limit, which is acceptable for the purpose (stopping a runaway device or a script), and it
keeps every request free of extra database writes. See docs/server.md.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """At most ``per_min`` hits per key in each 60 s window (0 = unlimited)."""

    def __init__(self, per_min: int, clock: Callable[[], float] = time.monotonic, window_s: float = 60.0):
        self.per_min = per_min
        self.clock = clock
        self.window_s = window_s
        self._lock = threading.Lock()
        self._hits: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> float:
        """Count one request; returns 0 when allowed, else the seconds until the window resets."""
        if self.per_min <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            start, n = self._hits.get(key, (now, 0))
            if now - start >= self.window_s:
                start, n = now, 0
            if n >= self.per_min:
                return max(0.0, self.window_s - (now - start))
            self._hits[key] = (start, n + 1)
            if len(self._hits) > 100_000:  # forget stale windows
                self._hits = {k: v for k, v in self._hits.items() if now - v[0] < self.window_s}
            return 0.0

    @staticmethod
    def retry_after(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))
