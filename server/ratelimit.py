"""Per-key request limits (a device, a client address) that hold across the processes sharing a database.

Pure: no I/O, the clock injectable. ``hit(key)`` is a dictionary look-up under a lock, never a database
round trip. The windows are wall-clock minutes (``minute = int(unix_time // 60)``), so every process
counts the same window. Once a second ``server.limitsync`` *merges*: it writes this process's count of
each key that reached :meth:`RateLimiter.report_at` and reads every process's total of every key
written this minute, then calls :meth:`RateLimiter.merged`.

The rule, per key and minute, in each of the N processes that share the limit (N: the live processes
the last merge counted, and at least this instance's workers):

- a key no merge has told about yet may get ``limit // N`` requests here (with one process: the whole
  limit, exactly as a plain per-process counter);
- after a merge that read the key's total S (the counts every process has written, ours included), a
  process may allow ``max(0, (limit - S) // N)`` more than it had written: its share of what is left.

So a client whose requests all reach one process (a kiosk keeps one keep-alive connection, so one
worker) gets the whole limit: a share at a time, a second apart, at most. A client spread over N
processes gets at most ``limit + (N - 1) * (limit // N + report_at)`` in a minute, under twice the limit
whatever N (docs/server.md; ``tests/server/test_limits.py`` checks it by simulation), against N times
the limit with per-process counters. Refused while its share is used up but the limit is not: wait
for the next merge (``Retry-After: 1``); once the limit is used up: until the minute ends.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .tokens import key_hash

#: Seconds per window.
WINDOW_S = 60
#: Seconds between merges (``server.limitsync``); a request refused only for its share waits this long.
MERGE_S = 1.0


@dataclass(slots=True)
class _Key:
    own: int = 0  #: requests this process allowed this minute
    written: int = 0  #: ``own`` as the last merge wrote it
    total: int = 0  #: every process's written count, as the last merge read it
    quota: int | None = None  #: ``own`` may grow to this; None: not merged yet (``limit // N``)


class RateLimiter:
    """At most ``per_min`` requests per key in each wall-clock minute (0 = unlimited), across the
    processes whose limiters of the same ``name`` are merged into one database.

    ``clock``: Unix time in seconds (default ``time.time``); ``workers``: the worker processes of this
    instance (``Settings.workers``), the fewest processes that share the limit even before a merge has
    seen them (workers start together; the first to merge would see itself alone).
    """

    def __init__(self, per_min: int, name: str = "requests", clock: Callable[[], float] = time.time,
                 workers: int = 1):
        self.per_min = per_min
        self.name = name
        self.clock = clock
        self.workers = max(1, workers)
        #: Live processes sharing this limit: from the last merge, at least ``workers``.
        self.processes = self.workers
        self._lock = threading.Lock()
        self._minute = -1
        self._keys: dict[str, _Key] = {}

    def key(self, raw: str) -> str:
        """The stored form of ``raw`` (a device id, an address): ``<name>:`` and a hash, never the raw text."""
        return f"{self.name}:{key_hash(raw)}"

    def hit(self, raw: str) -> float:
        """Count one request of ``raw``; 0 when allowed, else the seconds to wait."""
        if self.per_min <= 0:
            return 0.0
        key = self.key(raw)
        now = self.clock()
        with self._lock:
            self._roll(int(now // WINDOW_S))
            k = self._keys.get(key)
            if k is None:
                k = self._keys[key] = _Key()
            quota = self.per_min // self.processes if k.quota is None else k.quota
            if k.own < quota:
                k.own += 1
                return 0.0
            left = (self._minute + 1) * WINDOW_S - now
            if k.total - k.written + k.own >= self.per_min:
                return max(0.0, left)
            return min(MERGE_S, max(0.0, left))

    def _roll(self, minute: int) -> None:
        if minute != self._minute:
            self._minute = minute
            self._keys = {}

    def report_at(self) -> int:
        """A key's count is written once it reaches this: ``per_min // (4 N)`` (at least 1). Keys below it
        in every process cannot together reach the limit, so a kiosk far below it writes nothing."""
        return max(1, self.per_min // (4 * self.processes))

    def to_write(self) -> tuple[int, dict[str, int]]:
        """(this minute, ``{key: own count}``) of the keys to write now: at or past :meth:`report_at`
        and changed since the last write."""
        if self.per_min <= 0:
            return self._minute, {}
        with self._lock:
            self._roll(int(self.clock() // WINDOW_S))
            at = self.report_at()
            return self._minute, {key: k.own for key, k in self._keys.items() if k.own >= at and k.own != k.written}

    def merged(self, minute: int, written: Mapping[str, int], totals: Mapping[str, int], processes: int) -> None:
        """After a merge of ``minute``: ``written`` is what :meth:`to_write` gave and was written,
        ``totals`` every process's sum per key written this minute (this limiter's keys), ``processes``
        the live processes sharing the limit."""
        with self._lock:
            self.processes = max(self.workers, processes)
            if minute != self._minute:  # the minute ended during the merge: its counts no longer matter
                return
            for key, own in written.items():
                self._keys[key].written = own
            for key, total in totals.items():
                k = self._keys.get(key)
                if k is None:
                    k = self._keys[key] = _Key()
                k.total = total
                k.quota = k.written + max(0, (self.per_min - total) // self.processes)

    @staticmethod
    def retry_after(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))
