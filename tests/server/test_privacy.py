"""Privacy and retention: no IP with a response, comments deletable, old raw events pruned, rollups kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server import admin
from server import tables as t

from .conftest import followup, press

PERSONAL = ("ip", "addr", "address", "email", "user", "agent", "phone", "name")


def test_privacy_no_personal_columns_with_responses():
    for table in (t.responses, t.followups, t.event_ids, t.rollup_hourly, t.rollup_followups):
        for col in table.c:
            assert not any(word in col.name for word in PERSONAL), (table.name, col.name)


def test_privacy_comment_deleted_keeps_event(client, world, engine):
    r = press(1)
    c = followup(r["id"], "comment", "Ask for Liisa at 040-1234567")
    client.post("/api/v1/responses", json={"events": [r, c]}, headers=world.device("s1"))
    assert client.delete(f"/api/v1/comments/{c['id']}", headers=world.user("admin")).status_code == 204
    with engine.connect() as conn:
        row = conn.execute(select(t.followups).where(t.followups.c.id == c["id"])).first()
    assert row.value is None and row.deleted_at
    day = row.local_date
    csv = client.get("/api/v1/export/responses.csv", params={"store": "s1", "from": day, "to": day},
                     headers=world.user("admin")).text
    assert "Liisa" not in csv and c["id"] in csv


def test_privacy_prune_old_raw_events_keeps_rollups(client, world, engine):
    old = datetime.now(UTC) - timedelta(days=400)
    events = [press(4, at=old), press(1, at=old), press(4)]
    events.append(followup(events[1]["id"], "reason", "queue", at=old))
    client.post("/api/v1/responses", json={"events": events}, headers=world.device("s1"))
    day = old.astimezone().date().isoformat()
    q = {"from": (old - timedelta(days=1)).date().isoformat(), "to": (old + timedelta(days=1)).date().isoformat()}
    before = client.get("/api/v1/stores/s1/daily", params=q, headers=world.user("admin")).json()["total"]
    assert admin.prune(engine, 365) == {"responses": 2, "followups": 1}
    after = client.get("/api/v1/stores/s1/daily", params=q, headers=world.user("admin")).json()["total"]
    assert before == after and after["n"] == 2
    assert admin.count_rows(engine, "responses") == 1
    assert day


def test_privacy_csv_cells_cannot_run_formulas(client, world):
    r = press(1)
    c = followup(r["id"], "comment", "=HYPERLINK(\"http://x\")")
    client.post("/api/v1/responses", json={"events": [r, c]}, headers=world.device("s1"))
    day = datetime.now(UTC).date().isoformat()
    text = client.get("/api/v1/export/responses.csv",
                      params={"store": "s1", "from": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
                              "to": (datetime.now(UTC) + timedelta(days=1)).date().isoformat()},
                      headers=world.user("admin")).text
    assert "'=HYPERLINK" in text and day
