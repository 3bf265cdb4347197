"""A full disk or read-only file system: clear error, presses held, recording resumes by itself.

Where the machine allows (root, ``mount`` works) these use a real small tmpfs mounted into the
test's tmp_path, so SQLite meets a real ENOSPC / EROFS from the kernel. Elsewhere the tmpfs tests
skip and ``test_..._fault_injected`` still runs: SQLite's ``PRAGMA max_page_count`` makes the database
"full" (the same SQLITE_FULL error path) without touching the file system.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from hymy.errors import StoreUnavailable
from hymy.protocol import default_store_config
from kiosk.capture import Recorder
from kiosk.clock import SystemClock
from kiosk.store import Store
from tests import procs

CONFIG = default_store_config().model_copy(update={"response_interval_s": 0.0})


@contextmanager
def tmpfs(where: Path, size: str = "1m"):
    """A real tmpfs of ``size`` at ``where``; skips the test when this machine cannot mount."""
    where.mkdir()
    try:
        done = procs.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                         capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); the fault-injected test covers SQLITE_FULL")
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the fault-injected test covers SQLITE_FULL")
    try:
        yield where
    finally:
        for _ in range(50):  # bounded: a lazy unmount as the last resort
            if procs.run(["umount", str(where)], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        else:
            procs.run(["umount", "-l", str(where)], capture_output=True)


def fill(directory: Path) -> Path:
    """Write a filler file until the file system says ENOSPC; return it (delete it to free space)."""
    filler = directory / "filler"
    chunk = b"\0" * 4096
    with open(filler, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return filler


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def stored_ids(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {r[0] for r in conn.execute("SELECT id FROM events")}
    finally:
        conn.close()


def _check_full_then_resume(store: Store, make_full, make_room, caplog) -> None:
    recorder = Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0.05)
    try:
        before = [recorder.record(4, "button").id for _ in range(20)]
        assert recorder.held == 0 and recorder.last_error is None

        make_full()
        caplog.set_level(logging.ERROR, logger="kiosk.capture")
        caplog.clear()
        # the store itself gives a clear error (after the last free bytes of its pages are used up)
        with pytest.raises(StoreUnavailable, match=r"kiosk\.db: cannot write: .*full"):
            for _ in range(1000):
                event = _one(recorder)
                store.append(event)
                before.append(event.id)
        committed = store.pending_count()
        during = [recorder.record(2, "touch").id for _ in range(30)]  # the kiosk keeps going
        assert recorder.held == 30
        assert "full" in recorder.last_error and "kiosk.db" in recorder.last_error
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "kiosk.capture"]
        assert len(errors) == 1, "the same error is logged once, not once per press"
        assert "held in memory" in errors[0].getMessage()
        assert store.pending_count() == committed == len(before), "nothing committed was lost"

        make_room()
        # no new press: the background retry writes the held presses by itself
        assert wait_until(lambda: recorder.held == 0), "recording did not resume after space returned"
        assert recorder.last_error is None
        after = recorder.record(3, "button").id
        ids = set(store.all_ids())
        assert set(before) | set(during) | {after} <= ids
        assert store.integrity_check() == "ok"
    finally:
        recorder.close()


def _one(recorder: Recorder):
    from kiosk.capture import build_response

    return build_response(1, "button", recorder.clock(), CONFIG, [])


def test_store_on_full_tmpfs_holds_presses_and_resumes_when_space_returns(tmp_path, caplog):
    """A real 1 MiB tmpfs filled with a filler file: SQLite meets ENOSPC (SQLITE_FULL)."""
    with tmpfs(tmp_path / "fs") as fs:
        store = Store(fs / "kiosk.db")
        filler: list[Path] = []
        try:
            _check_full_then_resume(store, lambda: filler.append(fill(fs)), lambda: filler[0].unlink(), caplog)
        finally:
            store.close()
        ids = stored_ids(fs / "kiosk.db")
        assert len(ids) >= 20 + 30 + 1


def test_store_full_fault_injected_with_max_page_count(tmp_path, caplog):
    """Fault injection for machines that cannot mount: ``PRAGMA max_page_count`` = the current size."""
    store = Store(tmp_path / "kiosk.db")
    try:
        def full():
            pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
            store._conn.execute(f"PRAGMA max_page_count = {pages}")

        _check_full_then_resume(store, full, lambda: store._conn.execute("PRAGMA max_page_count = 1073741823"),
                                caplog)
    finally:
        store.close()
    assert len(stored_ids(tmp_path / "kiosk.db")) >= 20 + 30 + 1


def test_store_on_read_only_mount_gives_a_clear_error(tmp_path):
    """A store on a file system remounted read-only: opening it names the file and the cause."""
    with tmpfs(tmp_path / "fs") as fs:
        with Store(fs / "kiosk.db") as store:
            store.append(_one(Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0)))
        ro = procs.run(["mount", "-o", "remount,ro", str(fs)], capture_output=True, text=True)
        if ro.returncode:
            pytest.skip(f"cannot remount read-only: {ro.stderr.strip()}")
        with pytest.raises(StoreUnavailable, match=r"kiosk\.db: cannot open the store: .*(readonly|unable to open)"):
            Store(fs / "kiosk.db")
        assert os.path.exists(fs / "kiosk.db"), "a read-only store is never moved aside as corrupt"
        assert not list(fs.glob("*.corrupt-*"))


def test_recorder_on_read_only_store_holds_presses_and_resumes(tmp_path, caplog):
    """The store becomes read-only while the kiosk runs (remount ro under an open connection is
    refused by the kernel, so this uses a read-only bind view of the same file for the writer's
    second life): presses are held, logged once, written when a writable store is back."""
    with tmpfs(tmp_path / "fs") as fs:
        store = Store(fs / "kiosk.db")
        try:
            state = {"ro": False}

            def readonly():
                store._conn.execute("PRAGMA query_only = ON")  # SQLite's own read-only switch
                state["ro"] = True

            recorder = Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0.05)
            try:
                recorder.record(4, "button")
                readonly()
                caplog.set_level(logging.ERROR, logger="kiosk.capture")
                held = [recorder.record(1, "button").id for _ in range(5)]
                assert recorder.held == 5
                assert recorder.last_error is not None and "kiosk.db" in recorder.last_error
                store._conn.execute("PRAGMA query_only = OFF")
                assert wait_until(lambda: recorder.held == 0)
                assert set(held) <= set(store.all_ids())
            finally:
                recorder.close()
        finally:
            store.close()


def test_store_opens_on_a_full_disk_after_a_reboot(tmp_path, caplog):
    """A kiosk rebooting with a full disk still starts: the integrity check reads, migrations have
    nothing to do, and failing to note the passed check only logs a warning."""
    from kiosk.store import RESERVE_BYTES

    with tmpfs(tmp_path / "fs", size=f"{17 * RESERVE_BYTES // 2**20}m") as fs:
        with Store(fs / "kiosk.db", boot_id="boot-1") as store:
            store.append(_one(Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0)))
            assert store.reserve_path.stat().st_size == RESERVE_BYTES, "a reserve is kept while there is room"
        filler = fill(fs)
        try:
            caplog.set_level(logging.WARNING, logger="kiosk.store")
            with Store(fs / "kiosk.db", boot_id="boot-2") as store:
                assert store.pending_count() == 1 and store.recovery is None
                assert "released the 4096 KiB reserve" in caplog.text
                recorder = Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0)
                for _ in range(50):
                    recorder.record(3, "touch")
                assert recorder.held == 0 and store.pending_count() == 51, "the reserve takes presses"
                assert not store.reserve_path.exists(), "no new reserve on a full disk"
        finally:
            filler.unlink()
        with Store(fs / "kiosk.db", boot_id="boot-3") as store:
            assert store.reserve_path.exists(), "the reserve comes back once there is room"


def test_store_without_room_for_a_reserve_opens_on_a_full_disk_only_if_it_can(tmp_path):
    """No reserve (a tiny file system): opening on a full disk is a clear StoreUnavailable, not a crash."""
    with tmpfs(tmp_path / "fs") as fs:
        with Store(fs / "kiosk.db") as store:
            store.append(_one(Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0)))
            assert not store.reserve_path.exists()
        filler = fill(fs)
        try:
            with pytest.raises(StoreUnavailable, match=r"kiosk\.db: cannot open the store: (disk I/O error|.*full)"):
                Store(fs / "kiosk.db", boot_id="boot-2")
        finally:
            filler.unlink()
        with Store(fs / "kiosk.db") as store:
            assert store.pending_count() == 1


def test_recorder_drops_the_oldest_held_press_beyond_its_limit_and_says_so(tmp_path, caplog, monkeypatch):
    import kiosk.capture

    monkeypatch.setattr(kiosk.capture, "MAX_HELD", 3)
    store = Store(tmp_path / "kiosk.db")
    recorder = Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0)
    try:
        store._conn.execute("PRAGMA query_only = ON")
        ids = [recorder.record(1, "button").id for _ in range(5)]
        assert recorder.held == 3
        assert "dropped the oldest" in caplog.text and ids[0] in caplog.text
        store._conn.execute("PRAGMA query_only = OFF")
        assert recorder.flush() == 3
        assert store.all_ids() == ids[2:]
    finally:
        recorder.close()
        store.close()
