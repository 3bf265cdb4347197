"""A damaged store file is moved aside (once), a fresh one made, logged, shown, and its rows salvaged.

Real files throughout: garbage over known pages, truncation, an empty file, a file without tables,
damage found at open, in a statement, by a file that shrank, and by the background check.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hymy.cli import cli
from kiosk.capture import Recorder
from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.status import device_status, format_status
from kiosk.store import Store, checkpoint, recovery
from tests import procs
from tests.kiosk.damage import CONFIG, PAGE, filled_store, garbage, moved_aside, pages_of, presses

ROOT = Path(__file__).resolve().parents[2]


def _garbage_file(path):
    path.write_bytes(os.urandom(3 * PAGE))


def _truncated(path):
    filled_store(path)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)


def _damaged_page(path):
    filled_store(path)
    garbage(path, [pages_of(path, "events")[5][0]])


def _empty(path):
    filled_store(path)
    os.truncate(path, 0)  # truncate -s 0


def _no_tables(path):
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 0")
        conn.execute("CREATE TABLE something_else (x)")


@pytest.mark.parametrize("damage", [_garbage_file, _truncated, _damaged_page, _empty, _no_tables],
                         ids=["garbage", "truncated", "damaged-page", "empty", "no-tables"])
def test_store_moves_a_damaged_file_aside_and_starts_fresh(tmp_path, caplog, damage):
    path = tmp_path / "kiosk.db"
    damage(path)
    original = path.read_bytes()
    caplog.set_level(logging.ERROR)

    store = Store(path, boot_id="after-power-loss")  # damage happens at power loss: the next boot checks
    try:
        assert store.recovery is not None
        moved = Path(store.recovery.moved_to)
        assert moved.parent == tmp_path and re.fullmatch(r"kiosk\.db\.corrupt-\d{8}T\d{6}Z", moved.name)
        assert moved.read_bytes() == original, "the evidence is kept byte for byte"
        assert "moved aside" in caplog.text and str(moved) in caplog.text
        note = recovery.read_note(moved)
        assert note["detail"] == store.recovery.detail and note["at"] == store.recovery.at
        # a fresh, healthy store that records
        assert store.integrity_check() == "ok"
        store.append(presses(1)[0])
        assert store.wait_salvaged(60)
        assert recovery.read_note(moved)["salvage"] == "done"
        pending = store.pending_count()
    finally:
        store.close()

    # never a crash loop: the next start finds a healthy store and keeps what was recorded
    with Store(path, boot_id="after-power-loss") as again:
        assert again.recovery is None
        assert again.pending_count() == pending >= 1
    assert len(moved_aside(tmp_path)) == 1


def test_empty_store_is_a_recovery_not_an_empty_store(tmp_path, caplog):
    """Issue 14 #22: ``truncate -s 0`` of a store holding 728 unsent presses, kiosk stopped. ``hymy
    status`` (read-only) says the store is damaged, with exit code 1, and changes nothing; the kiosk's
    next start moves it aside, logs an error, and from then on status shows the recovery."""
    data = tmp_path / "data"
    data.mkdir()
    filled_store(data / "kiosk.db", 728)
    os.truncate(data / "kiosk.db", 0)
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'[device]\ndata_dir = "{data}"\nclock = "trust"\n')
    before = sorted(p.name for p in data.iterdir())

    result = CliRunner().invoke(cli, ["status", "--config", str(toml)])
    assert result.exit_code == 1, result.output
    assert "DAMAGED" in result.output and "empty (0 bytes)" in result.output
    assert "Pending events: 0" not in result.output and "Pending events: unknown" in result.output
    assert sorted(p.name for p in data.iterdir()) == before, "status only reads"

    caplog.set_level(logging.ERROR)
    with Store(data / "kiosk.db"):  # the kiosk starts
        pass
    assert "empty (0 bytes)" in caplog.text and "moved aside" in caplog.text
    status = device_status(load_config(toml))
    assert status["store_file"]["state"] == "ok" and status["store_recoveries"] == 1
    assert status["store_recovered"]["detail"] == "the file is empty (0 bytes)"
    text = format_status(status)
    assert "Store recovered:" in text and "empty (0 bytes)" in text and "moved to" in text
    assert CliRunner().invoke(cli, ["status", "--config", str(toml)]).exit_code == 0


def test_store_recovery_moves_the_wal_too_and_never_overwrites_earlier_evidence(tmp_path):
    path = tmp_path / "kiosk.db"
    _garbage_file(path)
    (tmp_path / "kiosk.db-wal").write_bytes(b"junk")
    Store(path).close()
    _garbage_file(path)
    Store(path).close()  # same second: a second name, not an overwrite
    moved = moved_aside(tmp_path)
    assert len(moved) == 2
    assert any(Path(str(m) + "-wal").exists() for m in moved)


def test_healthy_store_is_not_moved_aside(tmp_path):
    path = tmp_path / "kiosk.db"
    filled_store(path, 50)
    with Store(path) as store:
        assert store.recovery is None
        assert store.pending_count() == 50
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_a_corrupt_store_in_a_read_only_directory_is_a_clear_error_not_a_traceback(tmp_path):
    """When the corrupt file cannot be moved aside, the error says so (StoreUnavailable)."""
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions; covered by the read-only mount test")
    path = tmp_path / "kiosk.db"
    _garbage_file(path)
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
    filled_store(path, 300)  # checked and marked for this machine's boot
    garbage(path, [pages_of(path, "events")[5][0]])
    with Store(path) as same_boot:
        assert same_boot.recovery is None, "same boot: not checked again"
    with Store(path, boot_id="next-boot") as next_boot:
        assert next_boot.recovery is not None, "a new boot checks and finds the damage"
        assert json.loads(next_boot.get_meta("quick_check"))["boot_id"] == "next-boot"


def test_check_false_never_runs_quick_check(tmp_path):
    path = tmp_path / "kiosk.db"
    filled_store(path, 300)
    garbage(path, [pages_of(path, "events")[5][0]])
    with Store(path, check=False, boot_id="other") as store:
        assert store.recovery is None


def test_damage_found_while_running_is_recovered_at_once_and_the_press_kept(tmp_path, caplog):
    """The per-boot check passed, then a page went bad: the next write meets SQLITE_CORRUPT. The store
    moves the file aside as at start, the Recorder writes the press into the fresh store before
    returning (before the customer is thanked), and the readable presses of the old file follow."""
    path = tmp_path / "kiosk.db"
    ids = filled_store(path, 1500)
    garbage(path, [pages_of(path, "events")[-1][0]])  # the page the next press goes to
    store = Store(path)  # same boot: not checked again
    recorder = Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0)
    try:
        caplog.set_level(logging.ERROR)
        press = recorder.record(2, "touch")
        assert recorder.held == 0 and recorder.last_error is None
        assert store.recovery is not None and "while running" in store.recovery.detail
        assert press.id in store.all_ids(), "the press went into the fresh store"
        assert store.wait_salvaged(60)
        kept = store.all_ids()
        assert len(kept) == len(set(kept)) and set(kept) - {press.id} <= set(ids)
        assert len(kept) > 1400, "the presses on intact pages are back"
        assert store.integrity_check() == "ok"
        assert "moved aside" in caplog.text
    finally:
        recorder.close()
        store.close()
    assert len(moved_aside(tmp_path)) == 1


def test_truncated_to_zero_while_the_kiosk_runs_keeps_every_press(tmp_path, caplog):
    """Issue 14 #22 within one boot: ``truncate -s 0`` under a running kiosk holding 728 unsent
    presses. The next press sees the file shrank: recovery at once, the press lands in the fresh store,
    and the 728 presses come back from the old connection's cache (the file itself has none left)."""
    path = tmp_path / "kiosk.db"
    store = Store(path)
    recorder = Recorder(store, lambda: CONFIG, SystemClock(trust=True), retry_s=0)
    try:
        old = store.append_many(presses(728))
        assert len(old) == 728
        ids = store.all_ids()
        caplog.set_level(logging.ERROR)
        os.truncate(path, 0)
        press = recorder.record(3, "button")
        assert recorder.held == 0 and press.id in store.all_ids()
        assert store.recovery is not None and "shrank" in store.recovery.detail
        assert "moved aside" in caplog.text
        assert store.wait_salvaged(60)
        assert sorted(store.all_ids()) == sorted([*ids, press.id])
        assert store.pending_count() == 729
    finally:
        recorder.close()
        store.close()


def test_the_background_check_finds_damage_no_statement_touches(tmp_path, monkeypatch):
    """A page the kiosk never reads goes bad mid-boot: the background quick_check finds it and the file
    is moved aside without waiting for the next boot; nothing readable is lost."""
    monkeypatch.setattr(checkpoint, "QUICK_CHECK_S", 0.05)
    path = tmp_path / "kiosk.db"
    ids = filled_store(path, 1500)
    with Store(path) as store:
        store.append(presses(1, boot="boot-b")[0])  # starts the background thread
        time.sleep(0.1)  # past the check interval since the open's check
        garbage(path, [pages_of(path, "events")[3][0]])
        deadline = time.monotonic() + 60
        while store.recovery is None and time.monotonic() < deadline:
            store.checkpoint()
            time.sleep(0.05)
        assert store.recovery is not None
        assert "background" in store.recovery.detail or "quick_check" in store.recovery.detail
        assert store.wait_salvaged(60)
        assert len(set(store.all_ids()) & set(ids)) > 1400


def test_the_other_process_replacing_the_file_is_followed_at_the_next_statement(tmp_path):
    """The sync agent moved the damaged file aside: the kiosk's next press goes to the new file, never
    into the moved-aside one (where nobody would deliver it)."""
    path = tmp_path / "kiosk.db"
    filled_store(path, 300)
    kiosk, agent = Store(path), Store(path)
    try:
        garbage(path, [pages_of(path, "events")[2][0]])
        agent._read("SELECT body FROM events NOT INDEXED")  # the agent's read meets the damage: it recovers
        assert agent.recovery is not None
        press = presses(1, boot="boot-b")[0]
        kiosk.append(press)
        assert kiosk.recovery is None, "the kiosk did not move anything aside itself"
        assert press.id in agent.all_ids()
        assert len(moved_aside(tmp_path)) == 1
    finally:
        kiosk.close()
        agent.close()


RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from kiosk.capture import Recorder
    from kiosk.clock import SystemClock
    from kiosk.store import Store
    from hymy.protocol import default_store_config
    go = Path(sys.argv[2])
    Path(sys.argv[2] + "-ready-" + sys.argv[3]).touch()
    while not go.exists():
        time.sleep(0.001)
    store = Store(sys.argv[1])
    press = Recorder(store, default_store_config, SystemClock(trust=True), retry_s=0).record(1, "button")
    store.wait_salvaged(60)
    print(press.id, store.recovery is not None)
    store.close()
    """
)


def test_two_processes_meeting_the_damage_at_once_move_it_aside_once(tmp_path):
    """Kiosk and sync agent share the file: both meet the damaged page at the same moment; one moves
    the file aside, the other follows it to the fresh store; both presses are kept, nothing twice."""
    path = tmp_path / "kiosk.db"
    ids = filled_store(path, 1500)
    garbage(path, [pages_of(path, "events")[-1][0]])  # both read it first (the response interval)
    script = tmp_path / "racer.py"
    script.write_text(RACER.format(root=str(ROOT)))
    go = tmp_path / "go"
    racers = [procs.Popen([sys.executable, str(script), str(path), str(go), str(i)], stdout=subprocess.PIPE,
                          text=True) for i in range(2)]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}-ready-{i}").exists() for i in range(2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    answers = [p.communicate(timeout=120)[0].split() for p in racers]
    assert all(p.returncode == 0 for p in racers)
    assert len(moved_aside(tmp_path)) == 1, "moved aside once"
    with Store(path) as store:
        store.wait_salvaged(60)
        kept = store.all_ids()
    assert {a[0] for a in answers} <= set(kept), "both presses are in the fresh store"
    assert len(kept) == len(set(kept)) and len(set(kept) & set(ids)) > 1400
