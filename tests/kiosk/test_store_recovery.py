"""A corrupt store file is moved aside with a timestamped name, a fresh one made, logged and shown."""

from __future__ import annotations

import json
import logging
import os
import re

import pytest
from click.testing import CliRunner

from hymy.cli import cli
from hymy.timestamps import utcnow
from kiosk.capture import build_response
from kiosk.clock import ClockReading
from kiosk.status import device_status, format_status
from kiosk.store import Store
from sync.protocol import default_store_config

CONFIG = default_store_config()
PAGE = 4096


def _presses(n: int, boot: str = "boot-a") -> list:
    now = utcnow()
    return [build_response(1 + i % 4, "button", ClockReading(now, True, boot, 1000 + i), CONFIG, []) for i in range(n)]


def _filled_store(path, n: int = 1500) -> None:
    with Store(path) as store:
        store.append_many(_presses(n))
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _garbage(path):
    path.write_bytes(os.urandom(3 * PAGE))


def _truncated(path):
    _filled_store(path)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)


def _damaged_page(path):
    _filled_store(path)
    with open(path, "r+b") as f:
        f.seek(5 * PAGE)  # a page of the events table's b-tree
        f.write(b"\xff" * PAGE)


@pytest.mark.parametrize("damage", [_garbage, _truncated, _damaged_page], ids=["garbage", "truncated", "damaged-page"])
def test_store_moves_a_corrupt_file_aside_and_starts_fresh(tmp_path, caplog, damage):
    path = tmp_path / "kiosk.db"
    damage(path)
    original = path.read_bytes()
    caplog.set_level(logging.ERROR, logger="kiosk.store")

    store = Store(path, boot_id="after-power-loss")  # damage happens at power loss: the next boot checks
    try:
        assert store.recovery is not None
        moved = tmp_path / os.path.basename(store.recovery.moved_to)
        assert re.fullmatch(r"kiosk\.db\.corrupt-\d{8}T\d{6}Z", moved.name)
        assert moved.read_bytes() == original, "the evidence is kept byte for byte"
        assert "moved aside" in caplog.text and str(moved) in caplog.text
        # a fresh, healthy store that records
        assert store.integrity_check() == "ok"
        assert store.pending_count() == 0
        store.append(_presses(1)[0])
        assert store.pending_count() == 1
        assert json.loads(store.get_meta("recovered"))["moved_to"] == str(moved)
    finally:
        store.close()

    # never a crash loop: the next start finds a healthy store and keeps what was recorded
    again = Store(path, boot_id="after-power-loss")
    try:
        assert again.recovery is None
        assert again.pending_count() == 1
    finally:
        again.close()
    assert len([p for p in tmp_path.glob("kiosk.db.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]) == 1


def test_store_recovery_moves_the_wal_too_and_never_overwrites_earlier_evidence(tmp_path):
    path = tmp_path / "kiosk.db"
    _garbage(path)
    (tmp_path / "kiosk.db-wal").write_bytes(b"junk")
    Store(path).close()
    _garbage(path)
    Store(path).close()  # same second: a second name, not an overwrite
    moved = sorted(p.name for p in tmp_path.glob("kiosk.db.corrupt-*") if not p.name.endswith(("-wal", "-shm")))
    assert len(moved) == 2
    assert any((tmp_path / (m + "-wal")).exists() for m in moved)


def test_healthy_store_is_not_moved_aside(tmp_path):
    path = tmp_path / "kiosk.db"
    _filled_store(path, 50)
    with Store(path) as store:
        assert store.recovery is None
        assert store.pending_count() == 50
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_status_shows_the_recovery_in_text_and_json(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _garbage(data / "kiosk.db")
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'[device]\ndata_dir = "{data}"\nclock = "trust"\n')

    from kiosk.config import load_config

    status = device_status(load_config(toml))
    assert status["store_recovered"]["moved_to"].startswith(str(data / "kiosk.db.corrupt-"))
    assert "Store recovered: corrupt file moved to" in format_status(status)

    runner = CliRunner()
    result = runner.invoke(cli, ["status", "--json", "--config", str(toml)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["store_recovered"]["moved_to"] == status["store_recovered"]["moved_to"]
    text = runner.invoke(cli, ["status", "--config", str(toml)])
    assert "Store recovered" in text.output


def test_a_corrupt_store_in_a_read_only_directory_is_a_clear_error_not_a_traceback(tmp_path):
    """When the corrupt file cannot be moved aside, the error says so (StoreUnavailable)."""
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions; covered by the read-only mount test")
    path = tmp_path / "kiosk.db"
    _garbage(path)
    tmp_path.chmod(0o500)
    try:
        from hymy.errors import StoreUnavailable

        with pytest.raises(StoreUnavailable, match="kiosk.db"):
            Store(path)
    finally:
        tmp_path.chmod(0o700)



def test_quick_check_runs_once_per_boot(tmp_path):
    """The check reads the whole file (slow for a big store on an SD card), so it runs at the first
    open of each boot; a restarted process in the same boot skips it, the next boot runs it again."""
    path = tmp_path / "kiosk.db"
    _filled_store(path, 300)  # checked and marked for this machine's boot
    with open(path, "r+b") as f:
        f.seek(5 * PAGE)
        f.write(b"\xff" * PAGE)
    with Store(path) as same_boot:
        assert same_boot.recovery is None, "same boot: not checked again"
    with Store(path, boot_id="next-boot") as next_boot:
        assert next_boot.recovery is not None, "a new boot checks and finds the damage"
        assert json.loads(next_boot.get_meta("quick_check"))["boot_id"] == "next-boot"


def test_check_false_never_runs_quick_check(tmp_path):
    path = tmp_path / "kiosk.db"
    _filled_store(path, 300)
    with open(path, "r+b") as f:
        f.seek(5 * PAGE)
        f.write(b"\xff" * PAGE)
    with Store(path, check=False, boot_id="other") as store:
        assert store.recovery is None


def test_damage_found_while_running_is_recovered_at_once_and_the_press_kept(tmp_path, caplog):
    """The per-boot check passed, then a page went bad: the next write meets SQLITE_CORRUPT. The store
    moves the file aside as at start, and the Recorder writes the press into the fresh store."""
    from kiosk.capture import Recorder
    from kiosk.clock import SystemClock

    path = tmp_path / "kiosk.db"
    _filled_store(path)
    with open(path, "r+b") as f:
        f.seek(5 * PAGE)
        f.write(b"\xff" * PAGE)
    store = Store(path)  # same boot: not checked again
    recorder = Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0)
    try:
        caplog.set_level(logging.ERROR)
        press = recorder.record(2, "touch")
        assert recorder.held == 0 and recorder.last_error is None
        assert store.recovery is not None and "while running" in store.recovery.detail
        assert store.all_ids() == [press.id], "the press went into the fresh store"
        assert store.integrity_check() == "ok"
        counted, filtered, _ = store.today_counts("UTC")
        assert sum(counted.values()) + filtered == 1, "reads work on the fresh store"
        assert "moved aside" in caplog.text
    finally:
        recorder.close()
        store.close()
    assert len([p for p in tmp_path.glob("kiosk.db.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]) == 1
