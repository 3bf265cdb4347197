"""SQLite writes done on the event loop itself when they need not wait (the device API's batches).

A batch's write on SQLite is a few hundred microseconds of work; handing it to a database thread and
back costs about a fifth of a millisecond more CPU (a queue, two thread wake-ups, the GIL passed back
and forth). So ``server.offload`` first tries the batches that are ready together on the loop, inside
:meth:`LoopWrites.trying`, and hands to its writer thread only what would wait:

- another thread of this process holds the write lock (a heartbeat, a dashboard or admin write, pruning);
- another process holds SQLite's lock (a second worker, ``hymy`` commands): with no busy timeout,
  ``BEGIN IMMEDIATE`` fails at once instead of stalling every request of the loop.

Either way :class:`server.db.WouldWait` is raised before anything is written, and the writer thread does
the same work later, waiting as long as it must. A write that runs on the loop never waits for a lock.

The loop's connection does not checkpoint by itself (a checkpoint writes and syncs the database file,
milliseconds to seconds on a slow disk): :meth:`LoopWrites.checkpoint_due` tells ``server.offload`` to
run a passive checkpoint on its writer thread at most every ``CHECKPOINT_S`` while the loop writes, so
the WAL stays about as short as SQLite's own automatic checkpoints keep it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from sqlalchemy import Engine

from .db import NO_WAIT, read_rows

#: Most seconds between two checkpoints while the loop writes.
CHECKPOINT_S = 1.0


class LoopWrites:
    """The no-wait writes of one SQLite engine (see the module's doc)."""

    def __init__(self, engine: Engine, checkpoint_s: float = CHECKPOINT_S):
        self.engine = engine
        self.checkpoint_s = checkpoint_s
        self._last = time.monotonic()
        self._wrote = False

    @contextlib.contextmanager
    def trying(self) -> Iterator[None]:
        """Within: this thread's writes raise ``WouldWait`` instead of waiting (``server.db.NO_WAIT``)."""
        token = NO_WAIT.set(True)
        try:
            yield
        finally:
            NO_WAIT.reset(token)
            self._wrote = True

    def checkpoint_due(self) -> bool:
        """True (once) when the loop wrote since the last checkpoint and ``checkpoint_s`` has passed."""
        now = time.monotonic()
        if not self._wrote or now - self._last < self.checkpoint_s:
            return False
        self._last, self._wrote = now, False
        return True

    def checkpoint(self) -> tuple:
        """A passive checkpoint (never waits, never blocks a writer) on the calling thread's connection:
        ``(busy, frames in the WAL, frames checkpointed)``."""
        return read_rows(self.engine, "PRAGMA wal_checkpoint(PASSIVE)", ())[0]
