"""The local store: outbox order, delivery marks, quarantine, counts, clock correction, retention,
and several threads and processes on one file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta

import pytest

from hymy.protocol import Flag, default_store_config
from hymy.timestamps import format_ts, parse_ts
from kiosk.capture import build_followup, build_response
from kiosk.clock import ClockReading
from kiosk.store import Store
from tests import procs

CONFIG = default_store_config()
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def press(mood=3, at=T0, *, boot="boot-a", uptime=1000, synced=True, flags=()):
    return build_response(mood, "button", ClockReading(at, synced, boot, uptime), CONFIG, list(flags))


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "kiosk.db")
    yield s
    s.close()


def test_store_uses_wal_and_synchronous_full(store):
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_append_returns_growing_order_numbers_and_unsent_keeps_that_order(store):
    events = [press(m) for m in (1, 2, 3, 4)]
    seqs = [store.append(e) for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    assert [e.id for e in store.unsent()] == [e.id for e in events]
    assert [e.id for e in store.unsent(limit=2)] == [e.id for e in events[:2]]
    assert [e.id for e in store.unsent(after_seq=seqs[1])] == [e.id for e in events[2:]]
    assert store.unsent()[0].payload()["mood"] == 1


def test_append_of_a_stored_id_is_a_no_op_returning_its_number(store):
    e = press()
    first = store.append(e)
    assert store.append(e) == first
    assert store.append_many([press(), e])[1] == first
    assert store.pending_count() == 2


def test_mark_sent_removes_from_unsent_and_counts_changes(store):
    events = [press() for _ in range(3)]
    store.append_many(events)
    assert store.mark_sent([events[0].id, events[2].id, "unknown"]) == 2
    assert store.mark_sent([events[0].id]) == 0, "marking twice changes nothing"
    assert [e.id for e in store.unsent()] == [events[1].id]
    assert store.mark_sent([]) == 0


def test_mark_sent_handles_more_ids_than_sqlite_variables(store):
    events = [press() for _ in range(1200)]
    store.append_many(events)
    assert store.mark_sent([e.id for e in events]) == 1200
    assert store.pending_count() == 0


def test_quarantine_moves_a_rejected_event_aside_with_the_reason(store):
    good, bad = press(), press()
    store.append_many([bad, good])
    assert store.quarantine(bad.id, "rejected: mood 9 outside scale 4")
    assert [e.id for e in store.unsent()] == [good.id], "the rejected event no longer blocks the ones behind it"
    assert store.quarantined_count() == 1
    q = store.quarantined()[0]
    assert q["id"] == bad.id and q["reason"].startswith("rejected: mood 9")
    assert store.get(bad.id)["id"] == bad.id, "kept, never deleted"
    assert not store.quarantine(bad.id, "again"), "only unsent events can be quarantined"
    store.mark_sent([good.id])
    assert not store.quarantine(good.id, "sent already")


def test_pending_count_and_oldest_pending_age(store):
    assert store.pending_count() == 0 and store.oldest_pending_age() is None
    store.append(press())
    age = store.oldest_pending_age(now=datetime.now(UTC) + timedelta(seconds=90))
    assert 89 <= age <= 91


def test_today_counts_use_the_store_time_zone(store):
    """Helsinki is UTC+2 in November: 23:30 UTC on the 22nd is already the 23rd there."""
    tz = "Europe/Helsinki"
    store.append_many([
        press(4, datetime(2026, 11, 22, 21, 59, tzinfo=UTC)),  # 23:59 local on the 22nd: yesterday
        press(4, datetime(2026, 11, 22, 22, 0, tzinfo=UTC)),  # 00:00 local on the 23rd
        press(1, datetime(2026, 11, 23, 12, 0, tzinfo=UTC)),
        press(2, datetime(2026, 11, 23, 21, 59, 59, 999000, tzinfo=UTC)),  # 23:59:59.999 local
        press(3, datetime(2026, 11, 23, 22, 0, tzinfo=UTC)),  # tomorrow local
        press(3, datetime(2026, 11, 23, 12, 1, tzinfo=UTC), flags=[Flag.repeat]),
        press(2, datetime(2026, 11, 23, 12, 2, tzinfo=UTC), flags=[Flag.closed]),
    ])
    counts, filtered, scale = store.today_counts(tz, now=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    assert counts == {4: 1, 1: 1, 2: 1}
    assert filtered == 2 and scale == 4
    # in UTC the day boundaries differ
    counts_utc, _, _ = store.today_counts("UTC", now=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    assert counts_utc == {1: 1, 2: 1, 3: 1}


def test_today_counts_on_a_dst_day_cover_23_hours(store):
    """29 March 2026 in Helsinki has 23 hours: 00:00 local = 22:00Z (28th), 24:00 local = 21:00Z."""
    store.append_many([
        press(4, datetime(2026, 3, 28, 22, 0, tzinfo=UTC)),  # first ms of the local day
        press(4, datetime(2026, 3, 29, 20, 59, tzinfo=UTC)),  # last minute of the local day
        press(1, datetime(2026, 3, 29, 21, 0, tzinfo=UTC)),  # next local day
    ])
    counts, _, _ = store.today_counts("Europe/Helsinki", now=datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert counts == {4: 2}


def test_voided_press_is_kept_but_not_counted(store):
    kept, voided = press(4), press(1)
    store.append_many([kept, voided])
    store.append(build_followup(voided.id, "void", "maintenance", ClockReading(T0, True, "boot-a", 2000)))
    counts, filtered, _ = store.counts_between(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert counts == {4: 1} and filtered == 1
    assert store.get(voided.id)["mood"] == 1


def test_last_counted_response_skips_flagged_presses(store):
    counted = press(4)
    store.append_many([counted, press(1, flags=[Flag.repeat]), press(2, flags=[Flag.closed])])
    assert store.last_counted_response()["id"] == counted.id


def test_recent_responses_since(store):
    old, new = press(1, T0 - timedelta(minutes=30)), press(2, T0)
    store.append_many([new, old])
    assert [r["id"] for r in store.recent_responses(T0 - timedelta(minutes=15))] == [new.id]


# ---------------------------------------------------------------------------------- clock correction


def test_clock_correction_fixes_unsent_unsynced_presses_of_the_same_boot(store):
    wrong = datetime(1970, 1, 1, 0, 5, tzinfo=UTC)  # a Pi without RTC before NTP
    early = press(1, wrong, boot="boot-a", uptime=10_000, synced=False)
    later = press(2, wrong + timedelta(seconds=50), boot="boot-a", uptime=60_000, synced=False)
    other_boot = press(3, wrong, boot="boot-old", uptime=10_000, synced=False)
    synced = press(4, T0 - timedelta(minutes=1), boot="boot-a", uptime=100_000, synced=True)
    sent = press(1, wrong, boot="boot-a", uptime=20_000, synced=False)
    fu = build_followup(early.id, "reason", "queue", ClockReading(wrong, False, "boot-a", 12_000))
    store.append_many([early, later, other_boot, synced, sent, fu])
    store.mark_sent([sent.id])
    # the device stored them with the same wrong clock it pressed them with
    store._conn.execute("UPDATE events SET stored_at = pressed_at WHERE clock_synced = 0")

    # synced now: T0 at uptime 160 s
    assert store.correct_clock("boot-a", T0, 160_000) == 3
    e, l_, f = store.get(early.id), store.get(later.id), store.get(fu.id)
    assert parse_ts(e["pressed_at"]) == T0 - timedelta(seconds=150)
    assert parse_ts(l_["pressed_at"]) == T0 - timedelta(seconds=100)
    assert parse_ts(f["pressed_at"]) == T0 - timedelta(seconds=148)
    for d, orig in ((e, early), (l_, later)):
        assert d["clock_corrected"] is True
        assert d["device_pressed_at"] == format_ts(orig.pressed_at), "the original wall clock is kept"
        assert d["clock_synced"] is False, "the record still says it was pressed unsynced"
    assert store.get(other_boot.id)["pressed_at"] == format_ts(wrong), "another boot's uptime means nothing now"
    assert store.get(synced.id).get("clock_corrected") is False
    assert store.get(sent.id)["pressed_at"] == format_ts(wrong), "sent events are corrected by the server"
    # the counted column follows the body, so today's counts see the corrected time
    counts, _, _ = store.counts_between(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert counts == {1: 1, 2: 1, 4: 1}
    # the stored time came from the same wrong clock: the oldest pending age is sane afterwards
    assert store.oldest_pending_age(now=T0) == pytest.approx(150, abs=0.01)
    # running again corrects nothing twice
    assert store.correct_clock("boot-a", T0 + timedelta(hours=1), 3_760_000) == 0
    assert parse_ts(store.get(early.id)["pressed_at"]) == T0 - timedelta(seconds=150)
    # the corrected body is still a valid protocol event
    from hymy.protocol import Response

    Response.model_validate(store.unsent()[0].payload())


# ---------------------------------------------------------------------------------- retention


def test_prune_deletes_only_sent_events_older_than_the_retention(store):
    old_sent, new_sent, old_unsent = press(), press(), press(at=T0 - timedelta(days=400))
    store.append_many([old_sent, new_sent, old_unsent])
    store.mark_sent([old_sent.id])
    store._conn.execute("UPDATE events SET sent_at = ? WHERE id = ?",
                        (format_ts(T0 - timedelta(days=31)), old_sent.id))
    store.mark_sent([new_sent.id])
    store._conn.execute("UPDATE events SET sent_at = ? WHERE id = ?", (format_ts(T0 - timedelta(days=29)), new_sent.id))
    assert store.prune(30, now=T0) == 1
    assert set(store.all_ids()) == {new_sent.id, old_unsent.id}
    assert store.prune(30, now=T0 + timedelta(days=3650)) == 1
    assert store.all_ids() == [old_unsent.id], "unsent events are never pruned"


def test_prune_goes_on_in_chunks_until_every_old_sent_event_is_gone(store):
    events = [press() for _ in range(5)]
    store.append_many(events)
    store.mark_sent([e.id for e in events[:4]])
    assert store.prune(0, now=datetime.now(UTC) + timedelta(days=1), chunk=2) == 4
    assert store.all_ids() == [events[4].id]


def test_order_numbers_are_never_reused_after_prune(store):
    """The sync agent's cursor (after_seq) must never skip a new event after everything was pruned."""
    a = press()
    seq_a = store.append(a)
    store.mark_sent([a.id])
    store.prune(0, now=datetime.now(UTC) + timedelta(days=1))
    assert store.max_seq() == 0
    assert store.append(press()) > seq_a


# ---------------------------------------------------------------------------------- meta


def test_meta_set_get_delete(store):
    assert store.get_meta("device_id") is None and store.get_meta("x", "d") == "d"
    store.set_meta("device_id", "dev-1")
    store.set_meta("device_id", "dev-2")
    assert store.get_meta("device_id") == "dev-2"
    store.set_meta("device_id", None)
    assert store.get_meta("device_id") is None


def test_replaced_on_disk_and_reopen(tmp_path):
    path = tmp_path / "kiosk.db"
    a = Store(path)
    try:
        a.append(press())
        assert not a.replaced_on_disk()
        for sfx in ("", "-wal", "-shm"):
            p = tmp_path / f"kiosk.db{sfx}"
            if p.exists():
                p.rename(tmp_path / f"elsewhere.db{sfx}")
        Store(path).close()  # another process made a fresh store
        assert a.replaced_on_disk()
        a.reopen()
        assert not a.replaced_on_disk() and a.pending_count() == 0
    finally:
        a.close()


# ---------------------------------------------------------------------------------- concurrency


def test_one_store_from_many_threads(store):
    """gpiozero callbacks, Kivy's main thread and timers share one Store: no lost or doubled events."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                store.append(press(1 + (n + i) % 4))
                if i % 10 == 0:
                    store.unsent(50)
                    store.today_counts("Europe/Helsinki")
                    store.set_meta(f"thread-{n}", str(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert store.pending_count() == 400
    assert len(set(store.all_ids())) == 400
    assert store.integrity_check() == "ok"


READER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from kiosk.store import Store
    store = Store(sys.argv[1])
    seen, deadline = [], time.monotonic() + 60
    while len(seen) < int(sys.argv[2]) and time.monotonic() < deadline:
        batch = store.unsent(50)
        if not batch:
            time.sleep(0.001)
            continue
        store.mark_sent([e.id for e in batch])
        seen.extend(e.id for e in batch)
    print("\\n".join(seen))
    """
)


def test_kiosk_writer_and_sync_reader_share_one_file(tmp_path):
    """A second process (the sync agent) reads and marks while this one (the kiosk) writes."""
    from tests.conftest import ROOT

    path = tmp_path / "kiosk.db"
    writer = Store(path)
    script = tmp_path / "reader.py"
    script.write_text(READER.format(root=str(ROOT)))
    total = 400
    reader = procs.Popen([sys.executable, str(script), str(path), str(total)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        written = []
        for i in range(total):
            e = press(1 + i % 4)
            writer.append(e)
            written.append(e.id)
        out, err = reader.communicate(timeout=90)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    seen = out.split()
    assert seen == written, "the reader saw every event once, in recording order"
    assert writer.pending_count() == 0
    assert writer.integrity_check() == "ok"
    writer.close()


def test_store_json_body_is_the_protocol_record(store):
    e = press(2)
    store.append(e)
    body = json.loads(sqlite3.connect(store.path).execute("SELECT body FROM events").fetchone()[0])
    assert body["id"] == e.id and body["type"] == "response" and body["mood"] == 2



def test_wal_is_checkpointed_off_the_press_path(tmp_path):
    """The background checkpointer folds the WAL back between bursts of presses (a quiet moment
    between customers), so the WAL restarts and stays about one burst long, below SQLite's own
    in-COMMIT threshold (a latency spike inside some customer's press)."""
    import time

    from kiosk.store import AUTOCHECKPOINT_PAGES, CHECKPOINT_EVERY

    store = Store(tmp_path / "kiosk.db", synchronous="NORMAL")  # NORMAL only to keep the test quick
    try:
        assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == AUTOCHECKPOINT_PAGES
        for _burst in range(30):
            runs = store._checkpointer.runs if store._checkpointer else 0
            for i in range(CHECKPOINT_EVERY):
                store.append(press(1 + i % 4))
            deadline = time.monotonic() + 2  # a quiet moment between customers
            while store._checkpointer.runs == runs and time.monotonic() < deadline:
                time.sleep(0.005)
            assert store._checkpointer.runs > runs, "no background checkpoint after a burst"
        assert store._checkpointer.runs >= 30
        wal = tmp_path / "kiosk.db-wal"
        # one burst is about 6 pages per commit, under the 1000-page in-COMMIT threshold; without the
        # background checkpoint the WAL file would reach that threshold (about 4 MB) before restarting
        assert wal.stat().st_size < 0.8 * AUTOCHECKPOINT_PAGES * 4096, f"WAL grew to {wal.stat().st_size} bytes"
        assert store.pending_count() == 30 * CHECKPOINT_EVERY
    finally:
        store.close()
    with Store(tmp_path / "kiosk.db") as again:
        assert again.pending_count() == 3000 and again.integrity_check() == "ok"


@pytest.mark.parametrize("sql", [
    "SELECT 1 FROM events v WHERE v.type = 'followup' AND v.kind = 'void' AND v.response_id = ?",
    "SELECT seq FROM events WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT 10",
    "SELECT seq FROM events WHERE clock_synced = 0 AND boot_id = ? AND sent_at IS NULL",
    "SELECT body FROM events WHERE type = 'response' AND pressed_at >= ? ORDER BY pressed_at",
])
def test_hot_queries_use_an_index_not_a_scan(store, sql):
    """Today's counts look up a void per response: without an index that was minutes on a big store."""
    plan = " ".join(row[3] for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql, ("x",)))
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan or "INTEGER PRIMARY KEY" in plan, plan
    assert not plan.startswith("SCAN events") and "SCAN v " not in plan + " ", plan
