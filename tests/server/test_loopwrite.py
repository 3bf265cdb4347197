"""SQLite batches written on the event loop (``server.loopwrite``, ``server.offload.write_grouped(on_loop=True)``):
written there when nothing would wait, grouped, and handed to the writer thread when a lock is held, by
another thread of the process or by another process, with nothing lost and the loop never stalled."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading

import pytest

from server.db import WouldWait, make_engine, together, writing
from server.ingest import ingest_many
from server.loopwrite import LoopWrites
from server.offload import Offload

from .conftest import press, store_with_devices, stored_responses

TZ = "Europe/Helsinki"


@pytest.fixture
def sqlite_engine(_sqlite_template, tmp_path):
    path = tmp_path / "server.db"
    shutil.copy(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


class _Runner:
    """``ingest_many`` as the device API runs it, noting the thread and the size of each call."""

    def __init__(self, engine):
        self.engine = engine
        self.calls: list[tuple[str, int]] = []

    def __call__(self, items):
        self.calls.append((threading.current_thread().name, len(items)))
        return ingest_many(self.engine, items)


def _statuses(outcome) -> list[str]:
    return [r["status"] for r in outcome.results]


def test_batches_ready_together_are_written_on_the_loop_in_one_group(sqlite_engine):
    sid, devs = store_with_devices(sqlite_engine)
    runner = _Runner(sqlite_engine)
    offload = Offload("sqlite", 1, LoopWrites(sqlite_engine))

    async def main():
        loop_thread = threading.current_thread().name
        got = await asyncio.gather(*(offload.write_grouped(runner, (d, sid, TZ, [press(4), press(2)], True), on_loop=True)
                                     for d in devs))
        return loop_thread, got

    try:
        loop_thread, got = asyncio.run(main())
    finally:
        offload.close()
    assert runner.calls == [(loop_thread, 3)]  # one call, on the event loop's own thread
    assert [_statuses(o) for o in got] == [["accepted", "accepted"]] * 3
    assert stored_responses(sqlite_engine) == 6


def test_a_batch_meeting_another_threads_write_goes_to_the_writer_thread(sqlite_engine):
    """While a dashboard or admin write of this process holds the write lock, the batch waits on the writer
    thread (not on the loop: other requests go on), then gets the answer it would have got."""
    sid, devs = store_with_devices(sqlite_engine)
    runner = _Runner(sqlite_engine)
    offload = Offload("sqlite", 1, LoopWrites(sqlite_engine))
    holding, release = threading.Event(), threading.Event()

    def other_write():
        with writing(sqlite_engine):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=other_write)
    holder.start()
    holding.wait(10)

    async def main():
        job = asyncio.ensure_future(offload.write_grouped(runner, (devs[0], sid, TZ, [press(3)], True), on_loop=True))
        ticks = 0
        for _ in range(10):  # the loop keeps turning while the batch waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        waiting = not job.done()
        release.set()
        return ticks, waiting, await job

    try:
        ticks, waiting, outcome = asyncio.run(main())
    finally:
        release.set()
        holder.join(10)
        offload.close()
    assert ticks == 10 and waiting
    assert _statuses(outcome) == ["accepted"]
    assert [name for name, _ in runner.calls] == [threading.main_thread().name, "hymy-db-0"]
    assert stored_responses(sqlite_engine) == 1


def test_a_batch_meeting_another_process_lock_goes_to_the_writer_thread(sqlite_engine):
    """Another process writing (a second worker, a `hymy` command): SQLite's own lock. The loop does not wait
    for it; the writer thread does, and stores the batch once the other transaction ends."""
    sid, devs = store_with_devices(sqlite_engine)
    runner = _Runner(sqlite_engine)
    offload = Offload("sqlite", 1, LoopWrites(sqlite_engine))
    other = sqlite3.connect(sqlite_engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def main():
        job = asyncio.ensure_future(offload.write_grouped(runner, (devs[0], sid, TZ, [press(4), press(1)], True),
                                                          on_loop=True))
        await asyncio.sleep(0.2)
        waiting = not job.done()
        other.execute("COMMIT")
        return waiting, await job

    try:
        waiting, outcome = asyncio.run(main())
    finally:
        other.close()
        offload.close()
    assert waiting
    assert _statuses(outcome) == ["accepted", "accepted"]
    assert [name for name, _ in runner.calls] == [threading.main_thread().name, "hymy-db-0"]
    assert stored_responses(sqlite_engine) == 2


def test_the_loops_writes_are_checkpointed_on_the_writer_thread(sqlite_engine):
    """The loop's connection never checkpoints itself (a checkpoint syncs the file); the writer thread does."""
    sid, devs = store_with_devices(sqlite_engine)
    done: list[tuple[str, tuple]] = []

    class Noted(LoopWrites):
        def checkpoint(self):
            got = super().checkpoint()
            done.append((threading.current_thread().name, got))
            return got

    offload = Offload("sqlite", 1, Noted(sqlite_engine, checkpoint_s=0.0))

    async def main():
        for i in range(3):
            await offload.write_grouped(_Runner(sqlite_engine), (devs[i], sid, TZ, [press(2)], True), on_loop=True)
        for _ in range(100):
            if len(done) >= 3:
                break
            await asyncio.sleep(0.02)

    try:
        asyncio.run(main())
    finally:
        offload.close()
    assert len(done) >= 3
    assert {name for name, _ in done} == {"hymy-db-0"}
    busy, frames, copied = done[-1][1]
    assert busy == 0 and frames == copied  # nothing left in the WAL that is not in the database file


def test_together_passes_would_wait_on_and_keeps_what_wasstored_responses():
    """Nothing stored: the whole group is handed on. Stored one by one after a failure: each item keeps its
    own result, and only the ones that would wait are handed on."""
    def refuse_all(todo):
        raise WouldWait("locked")

    with pytest.raises(WouldWait):
        together([1, 2], lambda i: i, refuse_all)

    def group_fails(todo):
        if len(todo) > 1:
            raise ValueError("one of them is bad")
        if todo[0] == 2:
            raise WouldWait("locked meanwhile")
        return [todo[0] * 10]

    got = together([1, 2, 3], lambda i: i, group_fails)
    assert got[0] == 10 and got[2] == 30
    assert isinstance(got[1], WouldWait)


def test_sqlalchemy_writes_refuse_to_wait_on_the_loop(sqlite_engine):
    """A SQLAlchemy write transaction may wait up to busy_timeout (30 s): under NO_WAIT it is refused at once,
    so no future runner on the loop can stall every request of the process."""
    from server.db import NO_WAIT

    token = NO_WAIT.set(True)
    try:
        with pytest.raises(WouldWait), writing(sqlite_engine):
            pass
    finally:
        NO_WAIT.reset(token)
    with writing(sqlite_engine):  # and waits as before elsewhere
        pass
