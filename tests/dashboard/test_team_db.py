"""Team screen links and praise messages on a real database, SQLite and PostgreSQL (the server tests'
fixtures: a migrated database, three stores with enrolled kiosks, a user of every role)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from hymy.errors import ConfigError
from hymy.timestamps import format_ts, utcnow
from server import admin, results
from server import tables as t
from server.dashboard import team_links
from server.tokens import hash_secret
from tests.server import conftest as server_fixtures
from tests.server.conftest import followup, press

# The server tests' fixtures (a migrated SQLite file or PostgreSQL schema, the app, a client, the world).
_sqlite_template, _pg_schema, db_url = (server_fixtures._sqlite_template, server_fixtures._pg_schema,
                                        server_fixtures.db_url)
settings, app, engine, client, world = (server_fixtures.settings, server_fixtures.app, server_fixtures.engine,
                                        server_fixtures.client, server_fixtures.world)


def _send(world, sid: str, events: list[dict]) -> None:
    r = world.client.post("/api/v1/responses", json={"events": events}, headers=world.device(sid))
    assert r.status_code == 200 and all(x["status"] == "accepted" for x in r.json()["results"]), r.text


def _wide() -> tuple[date, date]:
    today = utcnow().date()
    return today - timedelta(days=2), today + timedelta(days=2)


def test_praise_messages_only_after_counted_positive_presses(world, engine):
    now = utcnow()
    good, also = press(4, at=now - timedelta(minutes=2)), press(3, at=now - timedelta(minutes=1))
    neg, neutral_5, flagged, maint, voided = press(1), press(3, scale=5), press(4, flags=["repeat"]), \
        press(4, flags=["maintenance"]), press(4)
    other = press(4)
    _send(world, "s1", [
        good, followup(good["id"], "praise", "staff"), followup(good["id"], "comment", "Ihana palvelu"),
        also, followup(also["id"], "praise", "speed"),
        neg, followup(neg["id"], "comment", "Tyly myyjä"), followup(neg["id"], "praise", "staff"),
        neutral_5, followup(neutral_5["id"], "comment", "Ihan ok"),
        flagged, followup(flagged["id"], "comment", "Toisto"),
        maint, followup(maint["id"], "comment", "Huoltotesti"),
        voided, followup(voided["id"], "comment", "Mitätöity"), followup(voided["id"], "void", "test"),
    ])
    _send(world, "s2", [other, followup(other["id"], "comment", "Toinen myymälä")])
    first, last = _wide()
    with engine.connect() as conn:
        found = results.praise_messages(conn, ["s1"], first, last, limit=10)
        positive = results.comments(conn, ["s1"], first, last, limit=10, positive=True)
        written = results.praise_messages(conn, ["s1"], first, last, limit=10, with_comment=True)
    assert [(m.praise, m.comment) for m in found] == [(("speed",), None), (("staff",), "Ihana palvelu")]
    assert {m.store_id for m in found} == {"s1"} and found[1].response_id == good["id"]
    assert [(m.praise, m.comment) for m in written] == [(("staff",), "Ihana palvelu")]
    assert [c.text for c in positive] == ["Ihana palvelu"]  # the same rule for the comments after a happy face
    with engine.connect() as conn:
        assert len(results.praise_messages(conn, ["s1"], first, last, limit=1)) == 1
        assert results.praise_messages(conn, ["s1", "s2"], first, last, limit=0) == []
    comment_id = next(m.comment_id for m in found if m.comment)
    assert admin.delete_comment(engine, comment_id)
    with engine.connect() as conn:
        after = results.praise_messages(conn, ["s1"], first, last, limit=10)
    assert [(m.praise, m.comment) for m in after] == [(("speed",), None), (("staff",), None)]


def test_praise_messages_newest_first_within_the_local_dates(world, engine):
    now = utcnow()
    # "yesterday" lies well outside the window _wide() reads (today +- 2 UTC dates), whatever the hour
    old, new, yesterday = press(4, at=now - timedelta(minutes=30)), press(4, at=now - timedelta(minutes=1)), \
        press(4, at=now - timedelta(days=4))
    _send(world, "s1", [old, followup(old["id"], "comment", "vanha", at=now - timedelta(minutes=29)),
                        new, followup(new["id"], "comment", "uusi", at=now),
                        yesterday, followup(yesterday["id"], "comment", "eilinen", at=now - timedelta(days=4))])
    first, last = _wide()
    with engine.connect() as conn:
        found = results.praise_messages(conn, ["s1"], first, last, limit=10)
    assert [m.comment for m in found] == ["uusi", "vanha"]


def test_praise_messages_look_past_many_newer_follow_ups_that_do_not_count(world, engine):
    now = utcnow()
    kind_words = press(4, at=now - timedelta(hours=2))
    events = [kind_words, followup(kind_words["id"], "comment", "Kiitos!", at=now - timedelta(hours=2))]
    for i in range(20):  # a bad afternoon: every newer comment came after an unhappy face
        r = press(1, at=now - timedelta(minutes=60 - i))
        events += [r, followup(r["id"], "comment", f"jono {i}", at=now - timedelta(minutes=60 - i))]
    _send(world, "s1", events)
    first, last = _wide()
    with engine.connect() as conn:
        assert [m.comment for m in results.praise_messages(conn, ["s1"], first, last, limit=1)] == ["Kiitos!"]
        assert [m.comment for m in results.praise_messages(conn, ["s1"], first, last, limit=3,
                                                           with_comment=True)] == ["Kiitos!"]


def test_team_links_create_open_revoke(world, engine):
    link, token = team_links.create_link(engine, "s1", "  Staff   room ", world.users["manager"].id)
    assert link.name == "Staff room" and link.created_by == "matti" and link.active and link.last_used_at is None
    with engine.connect() as conn:
        stored = conn.execute(select(t.team_links.c.token_hash)).scalars().all()
    assert stored == [hash_secret(token)]
    assert team_links.open_link(engine, token) == team_links.Opened("s1", False)
    used = team_links.get_link(engine, "s1", link.id).last_used_at
    assert used is not None
    assert team_links.open_link(engine, token) is not None
    assert team_links.get_link(engine, "s1", link.id).last_used_at == used  # written at most once a minute
    with engine.begin() as conn:
        conn.execute(update(t.team_links).values(last_used_at=format_ts(utcnow() - timedelta(minutes=5))))
    team_links.open_link(engine, token)
    assert team_links.get_link(engine, "s1", link.id).last_used_at > used - timedelta(seconds=1)
    assert team_links.open_link(engine, "no such token") is None
    assert team_links.open_link(engine, "") is None
    assert not team_links.revoke_link(engine, "s2", link.id)  # another store's id does not reach it
    assert team_links.revoke_link(engine, "s1", link.id)
    assert not team_links.revoke_link(engine, "s1", link.id)
    assert team_links.open_link(engine, token) == team_links.Opened("s1", True)
    second, _ = team_links.create_link(engine, "s1", "Tablet", None)
    assert [x.id for x in team_links.links_for_store(engine, "s1")] == [second.id, link.id]  # active first
    assert team_links.links_for_store(engine, "s2") == []


def test_team_link_names_are_checked(world, engine):
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(ConfigError, match="name"):
            team_links.create_link(engine, "s1", bad, None)
