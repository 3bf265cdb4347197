"""Work after a batch commits (the alert evaluation), on one worker thread instead of a thread per batch.

``AfterIngest.submit({store ids})`` returns at once: the stores join a pending set and the worker (a
``hymy.periodic.PeriodicJob`` woken by the submit, started with the first one) calls every hook of
``app.state.on_ingested`` as ``hook(engine, {store ids})`` with all the stores pending when it takes
them. So at most one evaluation of a store is in flight, and the batches that arrive for it meanwhile
are folded into the next one: under load a store is evaluated once per round, however many batches it
got, and rounds start at most every ``MIN_GAP_S`` (0.5 s), so a press is evaluated within about one
round and that gap after its batch committed (alerts must reach a webhook within 5 s). A hook that raises is
logged and never affects the request or the other hooks. ``stop(timeout_s)`` (the app's lifespan, at
its end) ends the worker after the round in progress, waiting at most that long.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable

from sqlalchemy import Engine

from hymy.periodic import PeriodicJob

log = logging.getLogger(__name__)
OnIngested = Callable[[Engine, set[str]], None]
#: Seconds between the worker's looks at the pending set when nothing wakes it (a safety net only:
#: every submit wakes it).
IDLE_S = 60.0
#: Shortest time between the starts of two rounds, in seconds (default 0.5): under a steady stream of
#: batches a store is evaluated at most about twice a second, however many batches it gets; after a
#: quiet spell the first batch is evaluated at once.
MIN_GAP_S = 0.5


class AfterIngest:
    """The post-ingest hooks of one app and their worker (see the module's doc)."""

    def __init__(self, engine: Engine, hooks: list[OnIngested], min_gap_s: float = MIN_GAP_S):
        self.engine = engine
        self.min_gap_s = min_gap_s
        self._last = -math.inf  # monotonic start of the last round
        self._stopping = threading.Event()
        self.hooks = hooks  #: the app's ``on_ingested`` list itself: hooks added later are called too
        self._pending: dict[str, None] = {}  # insertion-ordered set: stores in the order they came
        self._lock = threading.Lock()
        self._closed = False
        self._job = PeriodicJob("after-ingest", IDLE_S, self._round)

    def submit(self, store_ids: Iterable[str]) -> None:
        """Evaluate ``store_ids`` soon, on the worker (never in the caller's thread)."""
        if not self.hooks:
            return
        with self._lock:
            if self._closed:
                return
            for sid in store_ids:
                self._pending[sid] = None
        self._job.start()  # a no-op while it runs
        self._job.wake()

    def _round(self) -> None:
        wait = self._last + self.min_gap_s - time.monotonic()
        if wait > 0 and self._stopping.wait(wait):  # the batches of the next moment join this round
            return
        self._last = time.monotonic()
        with self._lock:
            stores, self._pending = set(self._pending), {}
        if not stores:
            return
        for hook in list(self.hooks):
            try:
                hook(self.engine, set(stores))
            except Exception:  # a hook must never fail ingest, nor stop the others
                log.exception("on_ingested hook %r failed", hook)

    def stop(self, timeout_s: float) -> bool:
        """No new round starts; wait at most ``timeout_s`` seconds for the round in progress. True when the
        worker ended (or never started)."""
        with self._lock:
            self._closed = True
        self._stopping.set()
        return self._job.stop(timeout_s)
