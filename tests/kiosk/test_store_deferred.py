"""A store that cannot be opened at start (disk full or read-only): the kiosk keeps working."""

from __future__ import annotations

import os
import sqlite3

import pytest

from hymy.errors import StoreUnavailable
from hymy.protocol import default_store_config
from kiosk.capture import Recorder
from kiosk.clock import SystemClock
from kiosk.store import DeferredStore, Store, open_store


def test_open_store_defers_when_the_directory_cannot_be_written_and_recovers(tmp_path):
    if os.geteuid() == 0:
        # root ignores directory permissions: make the path unopenable another way (a directory)
        path = tmp_path / "kiosk.db"
        path.mkdir()
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        path = ro / "kiosk.db"
        ro.chmod(0o500)
    store = open_store(path)
    assert isinstance(store, DeferredStore)
    store.retry_s = 0
    # reads answer "nothing yet" instead of crashing the screens
    assert store.today_counts("Europe/Helsinki") == ({}, 0, 4)
    assert store.get_meta("last_sync") is None
    recorder = Recorder(store, default_store_config, SystemClock(trust=True), retry_s=3600)
    press = recorder.record(2, "touch")  # held in memory, the customer still gets a thank-you
    assert recorder.held == 1 and "cannot be opened" in recorder.last_error
    with pytest.raises(StoreUnavailable, match="kiosk.db"):
        store.set_meta("x", "y")

    # space returns: the next call opens the real store and the held press is written
    if path.is_dir():
        path.rmdir()
    else:
        path.parent.chmod(0o700)
    assert recorder.flush() == 1
    assert recorder.held == 0 and recorder.last_error is None
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT id FROM events").fetchall() == [(press.id,)]
    recorder.close()
    store.close()


def test_open_store_returns_a_real_store_when_it_can(tmp_path):
    store = open_store(tmp_path / "kiosk.db")
    assert isinstance(store, Store)
    store.close()
