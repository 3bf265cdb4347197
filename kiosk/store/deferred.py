"""A stand-in for a store that cannot be opened yet (disk full or read-only at start-up).

``open_store`` is how the kiosk opens its store: the real ``Store`` when it can, else a
``DeferredStore`` that keeps trying, so the screen keeps working and presses are held in memory.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from hymy.errors import StoreUnavailable

if TYPE_CHECKING:
    from kiosk.store import Store

log = logging.getLogger("kiosk.store")


class DeferredStore:
    """Stands in for a Store that cannot be opened yet (disk full or read-only at start-up).

    The kiosk keeps showing screens: writes raise StoreUnavailable (the Recorder holds the presses in
    memory and retries), reads answer "nothing yet", and every call first tries to open the real store
    again (at most every ``retry_s`` seconds, default 5). Once it opens, every call goes to it.
    """

    _READS = {"today_counts": ({}, 0, 4), "counts_between": ({}, 0, 4), "last_counted_response": None,
              "recent_responses": [], "voided_since": frozenset(), "get_meta": None, "pending_count": 0,
              "quarantined_count": 0, "oldest_pending_age": None, "unsent": []}

    def __init__(self, path: str | Path, error: Exception, *, retry_s: float = 5.0, **store_kwargs):
        self.path = Path(path)
        self.retry_s = retry_s
        self.error = error
        self._kwargs = store_kwargs
        self._store: Store | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()

    def _real(self) -> Store | None:
        with self._lock:
            if self._store is None and time.monotonic() >= self._next_try:
                self._next_try = time.monotonic() + self.retry_s
                from kiosk.store import Store

                try:
                    self._store = Store(self.path, **self._kwargs)
                    log.warning("store %s opened after all: recording works again", self.path)
                except StoreUnavailable as exc:
                    self.error = exc
            return self._store

    def __getattr__(self, name: str):
        real = self._real()
        if real is not None:
            return getattr(real, name)
        if name in self._READS:
            default = self._READS[name]
            return lambda *a, **k: default
        if name == "close":
            return lambda: None

        def unavailable(*_a, **_k):
            raise StoreUnavailable(f"{self.path}: the store cannot be opened: {self.error}")

        return unavailable


def open_store(path: str | Path, **kwargs) -> Store | DeferredStore:
    """A Store, or a DeferredStore that keeps retrying when the disk is full or read-only right now."""
    from kiosk.store import Store

    try:
        return Store(path, **kwargs)
    except StoreUnavailable as exc:
        log.error("cannot open the store (%s); presses are held in memory and the store is retried", exc)
        return DeferredStore(path, exc, **kwargs)
