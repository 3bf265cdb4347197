"""Salvage: the readable rows of a moved-aside store reach the fresh one (real files, garbage pages)."""

from __future__ import annotations

import json
import os

from kiosk.store import Store, recovery
from tests.kiosk.damage import filled_store, garbage, moved_aside, pages_of, presses


def _note(store: Store) -> dict:
    return recovery.read_note(moved_aside(store.path.parent)[-1])


def test_salvage_keeps_every_row_but_those_on_damaged_pages(tmp_path):
    """3,000 unsent presses, garbage over three leaf pages of the outbox: after the next boot's check,
    every press on an intact page is back in the fresh store, unsent (the agent delivers it), and the
    count of unreadable rows is exactly the rows those three pages held."""
    path = tmp_path / "kiosk.db"
    ids = filled_store(path, 3000, sent=500)
    leaves = pages_of(path, "events")
    hit = [leaves[len(leaves) // 4], leaves[len(leaves) // 2], leaves[-2]]
    lost = sum(cells for _, cells in hit)
    garbage(path, [page for page, _ in hit])

    with Store(path, boot_id="next-boot") as store:
        assert store.recovery is not None
        assert store.wait_salvaged(60)
        kept = store.all_ids()
        assert len(kept) == 3000 - lost and set(kept) <= set(ids)
        assert kept == [i for i in ids if i in set(kept)], "salvaged rows keep their recording order"
        assert store.pending_count() == len([i for i in kept if i in set(ids[500:])]), "sent ones stay sent"
        note = _note(store)
        assert note["salvage"] == "done" and note["read"] == 3000 - lost and note["unreadable"] == lost
        assert note["added"] == 3000 - lost and note["unsent"] == store.pending_count()
        assert store.integrity_check() == "ok"


def test_salvage_of_a_damaged_interior_page_counts_what_is_out_of_reach(tmp_path):
    """Garbage over an interior page below the root: the rows under it cannot be reached through the
    b-tree; everything else is salvaged, and the intact indexes still count what was lost."""
    path = tmp_path / "kiosk.db"
    ids = filled_store(path, 8000)
    interior = pages_of(path, "events", "internal")
    assert len(interior) >= 3, "the outbox b-tree has interior pages below its root"
    garbage(path, [interior[-1][0]])
    with Store(path, boot_id="next-boot") as store:
        assert store.wait_salvaged(120)
        note = _note(store)
        kept = store.all_ids()
        assert 0 < note["unreadable"] < 8000 and note["read"] + note["unreadable"] == 8000 == len(ids)
        assert len(kept) == note["read"] and set(kept) <= set(ids)


def test_salvage_with_the_root_page_damaged_still_counts_the_loss(tmp_path):
    path = tmp_path / "kiosk.db"
    filled_store(path, 600)
    root = [p for p, _ in pages_of(path, "events", "internal")] or [p for p, _ in pages_of(path, "events")]
    garbage(path, [min(root)])
    with Store(path, boot_id="next-boot") as store:
        assert store.wait_salvaged(60)
        note = _note(store)
        assert note["read"] == 0 and note["unreadable"] == 600, "the id index still knows how many there were"


def test_salvage_brings_back_meta_and_quarantine_but_not_twice(tmp_path):
    path = tmp_path / "kiosk.db"
    events = presses(40)
    with Store(path) as store:
        store.append_many(events)
        store.set_meta("device_id", "dev-9")
        assert store.quarantine(events[3].id, "rejected: test")
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    garbage(path, [pages_of(path, "events")[0][0]])
    with Store(path, boot_id="next-boot") as store:
        store.wait_salvaged(60)
        assert store.get_meta("device_id") == "dev-9", "the device's identity survives"
        assert [q["id"] for q in store.quarantined()] == [events[3].id]
        before = store.all_ids()
        # a salvage cut short (crash) is done again from the start: nothing doubles
        moved = moved_aside(tmp_path)[-1]
        recovery.write_note(moved, {**recovery.read_note(moved), "salvage": "pending"})
    with Store(path) as again:
        again.wait_salvaged(60)
        assert again.all_ids() == before and again.quarantined_count() == 1
        assert _note(again)["added"] == 0 and _note(again)["read"] > 0


def test_new_presses_and_salvaged_ones_do_not_collide(tmp_path):
    """A press recorded in the fresh store before the salvage ran keeps its place; a quarantined event
    of the damaged file never replaces one quarantined in the fresh store."""
    path = tmp_path / "kiosk.db"
    old = presses(30)
    with Store(path) as store:
        store.append_many(old)
        store.quarantine(old[0].id, "rejected: old")
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    garbage(path, [pages_of(path, "events")[-1][0]])
    moved = path.with_name("kiosk.db.corrupt-20261123T101500Z")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(str(path) + suffix):
            os.rename(str(path) + suffix, str(moved) + suffix)
    recovery.write_note(moved, {"moved_to": str(moved), "detail": "test", "salvage": "pending"})
    new = presses(3, boot="boot-b")
    with Store(path) as store:  # opens a fresh store and salvages the moved-aside file in the background
        store.append_many(new)
        store.quarantine(new[0].id, "rejected: new")
        store.wait_salvaged(60)
        assert {q["id"] for q in store.quarantined()} == {old[0].id, new[0].id}
        ids = store.all_ids()
        assert len(ids) == len(set(ids)) and {e.id for e in new[1:]} <= set(ids)
        assert json.loads(recovery.note_path(moved).read_text())["salvage"] == "done"


def test_a_file_that_cannot_be_read_at_all_is_noted_not_fatal(tmp_path):
    path = tmp_path / "kiosk.db"
    path.write_bytes(os.urandom(8 * 4096))
    with Store(path) as store:
        assert store.recovery is not None and "not an SQLite database" in store.recovery.detail
        store.wait_salvaged(60)
        note = _note(store)
        assert note["salvage"] == "done" and note["read"] == 0 and note["unreadable"] is None and note["error"]
        store.append(presses(1)[0])
        assert store.pending_count() == 1
