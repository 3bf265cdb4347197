"""Where the device API's database work runs: threads of the app's own, not anyio's pool.

``Offload(dialect, pool_size)``; ``await offload.write(fn, *args)`` runs ``fn(*args)`` on one of its
threads and returns its result (its exception raised here): a put on a queue and one wake-up of the
event loop, without anyio's capacity limiter, cancel scope and worker bookkeeping that
``run_in_threadpool`` adds to every call.

- SQLite: ONE writer thread. Its writes are serialised by the database anyway (and by the process's
  write lock, ``server.db.writing``), so one thread takes them in order without threads queueing on the
  lock; ``read(fn, ...)`` runs ``fn`` inline on the event loop (an indexed read of a local file in WAL
  mode never waits for a writer: tens of microseconds, less than a hand-off).
- PostgreSQL: ``pool_size`` threads (the worker's share of ``HYMY_DB_POOL``, as many as its engine keeps connections), for
  reads and writes: each waits on the network, so they overlap.

``await offload.write_grouped(runner, item)`` is for work that is cheaper together: on SQLite the writer
thread that takes such a job also takes every job already queued behind it (at most ``MAX_GROUP``), and
calls each ``runner`` once with the items of its jobs, in the order they came: ``runner(items)`` returns a
result or an exception per item (``server.ingest.ingest_many``: the batches waiting for the writer stored in
one transaction). Nobody waits for a group to fill: a job alone is a group of one, so only work that queued
anyway is joined. On PostgreSQL every job is a group of one on its own thread: a thread taking the queue
would leave the other connections idle, and one transaction for batches of several stores would take
rollup row locks in an order another such transaction can cross (deadlocks, measured: 61 requests/s).

``write_grouped(runner, item, on_loop=True)`` on SQLite, with the app's :class:`server.loopwrite.LoopWrites`:
the jobs ready together are first run on the event loop itself, in the loop's next turn (at most
``MAX_GROUP`` a turn), and only those the runner answers with ``server.db.WouldWait`` (the write would
have waited for a lock) go to the writer thread; the runner must stop before writing anything it cannot
finish (``server.db.together`` does). See ``server.loopwrite`` for why.

The threads are started by ``start()`` (the app's start-up; else with the first call), all at once, so
their number never changes while the app serves; ``close()`` (the app's shutdown) ends them after the
work already queued.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

from .db import WouldWait
from .loopwrite import LoopWrites

log = logging.getLogger(__name__)
T = TypeVar("T")
_STOP = None
#: Most jobs the SQLite writer takes at once for ``write_grouped`` (all kinds together).
MAX_GROUP = 32
#: ``runner(items) -> [result or exception per item]``
Runner = Callable[[list], list]


class Offload:
    """The app's database threads (see the module's doc)."""

    def __init__(self, dialect: str, pool_size: int, loop_writes: LoopWrites | None = None):
        self.inline_reads = dialect == "sqlite"
        self.loop_writes = loop_writes if dialect == "sqlite" else None
        self._ready: list[tuple] = []  # (runner, item, future) for the loop's next turn
        self.threads = 1 if dialect == "sqlite" else max(1, pool_size)
        self.max_group = MAX_GROUP if dialect == "sqlite" else 1
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._started: list[threading.Thread] = []
        self._lock = threading.Lock()

    def _run(self) -> None:
        while (job := self._queue.get()) is not _STOP:
            jobs = [job]
            if job[4] is not None:  # grouped: take what queued behind it
                while len(jobs) < self.max_group:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:  # for this thread or another: back in line, after this work
                        self._queue.put(_STOP)
                        break
                    jobs.append(more)
            groups: dict[Runner, list[tuple]] = {}
            for fn, args, loop, future, runner in jobs:
                if runner is None:
                    _run_one(fn, args, loop, future)
                else:
                    groups.setdefault(runner, []).append((args, loop, future))
            for runner, members in groups.items():
                _run_group(runner, members)

    def start(self) -> None:
        """Start the threads (once)."""
        with self._lock:
            if self._started:
                return
            for i in range(self.threads):
                t = threading.Thread(target=self._run, name=f"hymy-db-{i}", daemon=True)
                t.start()
                self._started.append(t)

    async def write(self, fn: Callable[..., T], *args) -> T:
        """``fn(*args)`` on a database thread."""
        return await self._submit(fn, args, None)

    async def write_grouped(self, runner: Runner, item, on_loop: bool = False):
        """``runner([item, ...])``'s answer for ``item`` on a database thread, ``item`` grouped with the items
        of the same ``runner`` queued meanwhile (see the module's doc); its exception raised here.
        ``on_loop``: tried on the event loop first (SQLite with ``loop_writes``)."""
        if not (on_loop and self.loop_writes is not None):
            return await self._submit(None, item, runner)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._ready.append((runner, item, future))
        if len(self._ready) == 1:
            loop.call_soon(self._flush, loop)
        return await future

    def _flush(self, loop) -> None:
        """The loop's turn: run the jobs that are ready, grouped by runner; hand what would wait to the thread."""
        jobs, self._ready = self._ready[:MAX_GROUP], self._ready[MAX_GROUP:]
        if self._ready:
            loop.call_soon(self._flush, loop)
        groups: dict[Runner, list[tuple]] = {}
        for runner, item, future in jobs:
            groups.setdefault(runner, []).append((item, future))
        for runner, members in groups.items():
            with self.loop_writes.trying():
                results = _answers(runner, [item for item, _ in members])
            for result, (item, future) in zip(results, members, strict=True):
                if isinstance(result, WouldWait):  # nothing of it written: the writer thread waits for the lock
                    self._put((None, item, loop, future, runner))
                else:
                    _answer(future, result)
        if self.loop_writes.checkpoint_due():
            self._put((_checkpoint, (self.loop_writes,), loop, None, None))

    def _put(self, job: tuple) -> None:
        if not self._started:
            self.start()
        self._queue.put(job)

    async def _submit(self, fn, args, runner):
        if not self._started:
            self.start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((fn, args, loop, future, runner))
        return await future

    async def read(self, fn: Callable[..., T], *args) -> T:
        """``fn(*args)``: inline on SQLite, on a database thread on PostgreSQL."""
        if self.inline_reads:
            return fn(*args)
        return await self.write(fn, *args)

    def close(self) -> None:
        """The threads end once the work queued before is done (not waited for)."""
        with self._lock:
            for _ in self._started:
                self._queue.put(_STOP)
            self._started = []


def _checkpoint(loop_writes: LoopWrites) -> None:
    try:
        loop_writes.checkpoint()
    except Exception:  # the next one, or SQLite's own on another connection, will do it
        log.warning("checkpoint of the write-ahead log failed", exc_info=True)


def _run_one(fn, args, loop, future) -> None:
    if future is None:  # nobody waits for it (it handles its own errors)
        fn(*args)
        return
    try:
        result = fn(*args)
    except BaseException as exc:  # handed to the awaiting request, raised there
        loop.call_soon_threadsafe(_settle, future, None, exc)
    else:
        loop.call_soon_threadsafe(_settle, future, result, None)


def _run_group(runner: Runner, members: list[tuple]) -> None:
    results = _answers(runner, [args for args, _, _ in members])
    for result, (_, loop, future) in zip(results, members, strict=True):
        loop.call_soon_threadsafe(_answer, future, result)


def _answers(runner: Runner, items: list) -> list:
    """``runner(items)``: a result or an exception per item."""
    try:
        return runner(items)
    except BaseException as exc:  # the runner itself failed: every item gets it
        return [exc] * len(items)


def _answer(future: asyncio.Future, result) -> None:
    """Settle ``future`` with a runner's answer for its item (an exception is raised to the awaiting request)."""
    if isinstance(result, BaseException):
        _settle(future, None, result)
    else:
        _settle(future, result, None)


def _settle(future: asyncio.Future, result, exc: BaseException | None) -> None:
    if future.cancelled():  # the request went away meanwhile
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
