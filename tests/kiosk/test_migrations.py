"""The store's schema history: every earlier version opens to the latest with its data intact."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from hymy.protocol import default_store_config
from hymy.timestamps import format_ts, utcnow
from kiosk.capture import build_response
from kiosk.clock import ClockReading
from kiosk.store import Store, migrations
from tests import procs

CONFIG = default_store_config()


def _event_row(i: int) -> tuple:
    r = build_response(1 + i % 4, "button", ClockReading(utcnow(), i % 2 == 0, "boot-old", 100 + i), CONFIG, [])
    return (r.id, "response", r.model_dump_json(), r.mood, r.scale, format_ts(r.pressed_at), r.boot_id, r.uptime_ms,
            int(r.clock_synced), format_ts(utcnow()))


def build_at_version(path, version: int) -> dict:
    """A store file at schema ``version`` holding data that version can hold; returns what it holds."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.migrate(conn, upto=version)
    held: dict = {"ids": [], "meta": {}, "quarantined": []}
    if version >= 1:
        rows = [_event_row(i) for i in range(25)]
        conn.executemany(
            "INSERT INTO events (id, type, body, mood, scale, pressed_at, boot_id, uptime_ms, clock_synced, stored_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        conn.execute("UPDATE events SET sent_at = ? WHERE seq <= 5", (format_ts(utcnow()),))
        conn.execute("INSERT INTO meta (key, value) VALUES ('device_id', 'dev-123')")
        held["ids"] = [r[0] for r in rows]
        held["meta"] = {"device_id": "dev-123"}
    if version >= 2:
        q = _event_row(99)
        conn.execute("INSERT INTO quarantine (seq, id, type, body, reason, quarantined_at) VALUES (1000,?,?,?,?,?)",
                     (q[0], q[1], q[2], "rejected: test", format_ts(utcnow())))
        held["quarantined"] = [q[0]]
    assert migrations.version(conn) == version
    conn.close()
    return held


@pytest.mark.parametrize("version", range(1, migrations.LATEST))
def test_store_opens_every_earlier_schema_version_with_data_intact(tmp_path, version):
    path = tmp_path / "kiosk.db"
    held = build_at_version(path, version)
    with Store(path) as store:
        assert migrations.version(store._conn) == migrations.LATEST
        assert store.all_ids() == held["ids"]
        assert store.pending_count() == max(0, len(held["ids"]) - 5)
        for key, value in held["meta"].items():
            assert store.get_meta(key) == value
        assert [q["id"] for q in store.quarantined()] == held["quarantined"]
        assert store.recovery is None
        assert store.integrity_check() == "ok"
        # the migrated store works: append, unsent order, correction index
        new = build_response(2, "touch", ClockReading(utcnow(), False, "boot-new", 5), CONFIG, [])
        store.append(new)
        assert store.unsent(1000)[-1].id == new.id
        assert store.correct_clock("boot-new", utcnow(), 10) == 1


def test_a_file_without_the_first_migration_is_damage_not_an_old_store(tmp_path):
    """Every store was created with its tables (since the first version; now whole or not at all), so
    an SQLite file without them (version 0) is not an old store to migrate: it is moved aside."""
    path = tmp_path / "kiosk.db"
    build_at_version(path, 0)
    with Store(path) as store:
        assert store.recovery is not None and "no outbox tables" in store.recovery.detail
        assert migrations.version(store._conn) == migrations.LATEST


def test_migrating_twice_is_a_no_op(tmp_path):
    path = tmp_path / "kiosk.db"
    build_at_version(path, 1)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrations.migrate(conn) == migrations.LATEST - 1
        schema = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
        assert migrations.migrate(conn) == 0
        assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    finally:
        conn.close()
    with Store(path), Store(path):
        pass


def test_a_failing_migration_leaves_the_previous_version_untouched(tmp_path, monkeypatch):
    path = tmp_path / "kiosk.db"
    build_at_version(path, migrations.LATEST)

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            migrations.migrate(conn, upto=migrations.LATEST + 1)
        assert migrations.version(conn) == migrations.LATEST
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
        assert not conn.in_transaction
    finally:
        conn.close()


def test_store_newer_than_this_code_is_opened_without_changes(tmp_path):
    """After rolling back an update, a store migrated by the newer version still opens (migrations only add)."""
    path = tmp_path / "kiosk.db"
    build_at_version(path, migrations.LATEST)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 3}")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert migrations.version(store._conn) == migrations.LATEST + 3
        assert store.pending_count() == 20


MIGRATOR = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from kiosk.store import Store
    go = Path(sys.argv[2])
    Path(sys.argv[2] + "-ready-" + sys.argv[3]).touch()
    while not go.exists():
        time.sleep(0.001)
    with Store(sys.argv[1]) as store:
        store.set_meta("opened-by-" + sys.argv[3], "yes")
    print("ok")
    """
)


@pytest.mark.parametrize("start_version", [0, 1])
def test_two_processes_migrating_at_once_both_succeed(tmp_path, start_version):
    """The kiosk and the sync agent start together on an old (or new) store: both open it, once migrated."""
    from tests.conftest import ROOT

    path = tmp_path / "kiosk.db"
    held = build_at_version(path, start_version) if start_version else {"ids": []}
    go = tmp_path / "go"
    script = tmp_path / "migrator.py"
    script.write_text(MIGRATOR.format(root=str(ROOT)))
    migrators = [procs.Popen([sys.executable, str(script), str(path), str(go), str(n)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for n in range(4)]
    deadline = time.monotonic() + 30  # every process at the start line (imports done), then all at once
    while not all((tmp_path / f"go-ready-{n}").exists() for n in range(4)) and time.monotonic() < deadline:
        time.sleep(0.005)
    go.touch()
    outs = [p.communicate(timeout=60) for p in migrators]
    for p, (out, err) in zip(migrators, outs, strict=True):
        assert p.returncode == 0, err
        assert out.strip() == "ok"
    with Store(path) as store:
        assert migrations.version(store._conn) == migrations.LATEST
        assert store.all_ids() == held["ids"]
        assert all(store.get_meta(f"opened-by-{n}") == "yes" for n in range(4))
        assert store.recovery is None
