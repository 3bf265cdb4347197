"""sync.watch: a commit by another connection (the kiosk) is noticed; an idle store is not."""

from __future__ import annotations

from hymy.protocol import default_store_config
from hymy.timestamps import utcnow
from kiosk.capture import build_response
from kiosk.clock import ClockReading
from kiosk.store import Store
from sync.watch import ChangeWatcher


def test_watcher_sees_commits_of_another_connection_only(tmp_path):
    path = tmp_path / "kiosk.db"
    kiosk = Store(path)
    watcher = ChangeWatcher(path)
    assert watcher.changed() is True  # first look
    assert watcher.changed() is False
    assert watcher.changed() is False
    kiosk.append(build_response(3, "touch", ClockReading(utcnow(), True, "b", 1), default_store_config(), []))
    assert watcher.changed() is True
    assert watcher.changed() is False
    kiosk.set_meta("sync_requested_at", "2026-11-23T12:00:00.000Z")
    assert watcher.changed() is True
    watcher.close()
    kiosk.close()


def test_watcher_survives_a_missing_file(tmp_path):
    watcher = ChangeWatcher(tmp_path / "not-yet.db")
    assert watcher.changed() is True
    assert watcher.changed() is True  # still unreadable: keep saying "look"
