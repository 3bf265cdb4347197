"""The staff team screen over HTTP (the real app in-process, a real SQLite file with the sample data):
a link shows only its store and only good news, stops working the moment it is revoked, is stored
hashed; managers create and revoke links with CSRF-protected forms, by the access rules of server.auth.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hymy.timestamps import utcnow
from server import tables as t
from server.dashboard import team_links
from server.dashboard.sample import DEFAULT_PASSWORD as PW
from server.ingest import ingest
from server.tokens import hash_secret
from tests.server.conftest import followup, press

from . import test_dashboard_http as dash_http
from .harness import csrf_of, make_app, sign_in

TZ = "Europe/Helsinki"
TEAM_URL = re.compile(r'id="team-address"[^>]*>(https?://[^/]+(/team/[A-Za-z0-9_-]+))<')


# The real app over a SQLite file with the sample data, its stores open all day (the tests press "now"
# and expect it counted, at any hour), and a client: the dashboard's.
client = dash_http.client


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("team"), open_all_day=True)


def send(env, store_index: int, events: list[dict]) -> None:
    """Store ``events`` as the store's kiosk would (``server.ingest``, rollups and all)."""
    app, s = env
    sid = s.store_ids[store_index]
    ingest(app.state.engine, s.device_ids[sid], sid, TZ, events)


def happy(text: str, store_index: int, env, praise: str | None = "cashier", **flags) -> dict:
    """A counted very happy press with ``text`` as its comment (and a praise option), stored; returns the press."""
    r = press(4, at=utcnow() - timedelta(seconds=30), **flags)
    events = [r] + ([followup(r["id"], "praise", praise)] if praise else []) + [followup(r["id"], "comment", text)]
    send(env, store_index, events)
    return r


def create_link(client, store_id: str, name: str = "Taukotila") -> tuple[str, str]:
    """Create a link through the store page's form; returns (its path, its token)."""
    page = client.get(f"/admin/stores/{store_id}")
    assert page.status_code == 200, page.text
    r = client.post(f"/admin/stores/{store_id}/team-links", data={"csrf_token": csrf_of(page.text), "name": name})
    assert r.status_code == 201, r.text
    path = TEAM_URL.search(r.text).group(2)
    return path, path.rsplit("/", 1)[1]


def revoke_form(client, store_id: str, link_id: int):
    page = client.get(f"/admin/stores/{store_id}")
    return client.post(f"/admin/stores/{store_id}/team-links/{link_id}/revoke",
                       data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)


def link_id_of(env, token: str) -> int:
    with env[0].state.engine.connect() as conn:
        return conn.execute(select(t.team_links.c.id).where(t.team_links.c.token_hash == hash_secret(token))).scalar_one()


def test_team_link_shows_its_store_only_and_nothing_negative(client, env):
    app, s = env
    mine, other = s.store_ids[0], s.store_ids[1]
    happy("Kiitos Mari, paras kassa!", 0, env)
    happy("Muiden myymälän kehu", 1, env)
    r1, r2, r3 = press(1), press(2), press(1)
    send(env, 0, [r1, followup(r1["id"], "reason", "queue"), followup(r1["id"], "comment", "Jono oli hirveä"),
                  r2, followup(r2["id"], "comment", "Myyjä oli tyly"), r3])
    for flags, text in ((["repeat"], "Toistopainalluksen kehu"), (["maintenance"], "Huoltotestin kehu")):
        happy(text, 0, env, flags=flags)
    voided = happy("Mitätöidyn painalluksen kehu", 0, env)
    send(env, 0, [followup(voided["id"], "void", "technician test")])
    sign_in(client, "anna", PW)
    path, _token = create_link(client, mine)
    client.cookies.clear()  # the screen has no session: the link alone opens it

    page = client.get(path)
    assert page.status_code == 200
    html = page.text
    assert "Helsinki Kamppi" in html and "Kiitos Mari, paras kassa!" in html and "Kassan palvelu" in html
    for absent in ("Jono oli hirveä", "Myyjä oli tyly", "queue", "Toistopainalluksen kehu", "Huoltotestin kehu",
                   "Mitätöidyn painalluksen kehu", "Muiden myymälän kehu", "Espoo", "Vantaa", "Tampere",
                   "Uloskäynti", "Tyytymätön", "csrf_token", 'href="/today"', "/admin", "/devices", "/alerts"):
        assert absent not in html, absent
    assert "set-cookie" not in page.headers
    live = client.get(path + "/live.json")
    assert live.status_code == 200
    board = live.json()["stores"]
    assert [b["id"] for b in board] == [mine] and "Kiitos Mari, paras kassa!" in board[0]["html"]
    for absent in ("Jono oli hirveä", "Myyjä oli tyly", "Huoltotestin kehu", "Muiden myymälän kehu", "Espoo"):
        assert absent not in live.text, absent
    assert other not in live.text


def test_a_comment_is_text_on_the_team_screen_never_markup(client, env):
    app, s = env
    happy('<script>alert("x")</script><b>Kiitos</b>', 0, env, praise=None)
    _link, token = team_links.create_link(app.state.engine, s.store_ids[0], "Näyttö", None)
    for html in (client.get(f"/team/{token}").text, client.get(f"/team/{token}/live.json").json()["stores"][0]["html"]):
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Kiitos&lt;/b&gt;" in html
        assert "<script>alert" not in html and "<b>Kiitos" not in html


def test_team_link_stops_working_the_moment_it_is_revoked(client, env):
    _, s = env
    sid = s.store_ids[0]
    sign_in(client, "anna", PW)
    path, token = create_link(client, sid, "Tauko")
    assert client.get(path).status_code == 200
    r = revoke_form(client, sid, link_id_of(env, token))
    assert r.status_code == 303 and r.headers["location"].endswith("?revoked=1#team")
    gone = client.get(path)
    assert gone.status_code == 410 and "Tämä tiiminäytön linkki on poistettu käytöstä." in gone.text
    assert "Helsinki Kamppi" not in gone.text and "<nav" not in gone.text  # a plain page: no store, no menu
    assert client.get(path + "/live.json").status_code == 410
    listed = client.get(f"/admin/stores/{sid}").text
    assert "Peruutettu" in listed and "Linkki on peruutettu" in client.get(r.headers["location"]).text
    assert client.get("/team/" + "x" * 43).status_code == 404
    assert client.get("/team/" + "x" * 43 + "/live.json").status_code == 404
    assert client.get("/team/" + "x" * 300).status_code == 404


def test_team_token_is_stored_hashed_only(client, env):
    app, s = env
    sign_in(client, "risto", PW)
    _path, token = create_link(client, s.store_ids[2], "Kahvihuone")
    assert len(token) >= 43
    with app.state.engine.connect() as conn:
        row = conn.execute(select(t.team_links).where(t.team_links.c.token_hash == hash_secret(token))).one()
    assert token not in [str(v) for v in row] and row.name == "Kahvihuone"
    db = Path(app.state.settings.database_url.removeprefix("sqlite:///"))
    for f in (db, db.with_name(db.name + "-wal")):
        if f.exists():
            assert token.encode() not in f.read_bytes(), f
    assert token not in client.get(f"/admin/stores/{s.store_ids[2]}").text  # shown once, never listed


def test_team_link_forms_need_the_csrf_token(client, env):
    app, s = env
    sid = s.store_ids[0]
    sign_in(client, "anna", PW)
    before = team_links.links_for_store(app.state.engine, sid)
    assert client.post(f"/admin/stores/{sid}/team-links", data={"name": "X"}).status_code == 403
    assert client.post(f"/admin/stores/{sid}/team-links", data={"name": "X", "csrf_token": "forged"}).status_code == 403
    link, _token = team_links.create_link(app.state.engine, sid, "Kassa", None)
    r = client.post(f"/admin/stores/{sid}/team-links/{link.id}/revoke", data={"csrf_token": "forged"})
    assert r.status_code == 403
    after = team_links.links_for_store(app.state.engine, sid)
    assert len(after) == len(before) + 1 and all(x.active for x in after if x.id == link.id)


def test_team_link_roles_follow_who_may_see_the_store(client, env):
    app, s = env
    mine, other = s.store_ids[0], s.store_ids[1]
    link, _token = team_links.create_link(app.state.engine, other, "Espoon taukotila", None)
    sign_in(client, "anna", PW)  # store manager of `mine` only
    assert client.get(f"/admin/stores/{other}").status_code == 404
    page = client.get(f"/admin/stores/{mine}")
    token = csrf_of(page.text)
    assert client.post(f"/admin/stores/{other}/team-links", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/admin/stores/{other}/team-links/{link.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/admin/stores/{mine}/team-links/{link.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert team_links.get_link(app.state.engine, other, link.id).active
    # a manager sees the links, not the store's settings, and cannot save them
    assert 'id="team"' in page.text and 'name="question_fi"' not in page.text
    assert client.post(f"/admin/stores/{mine}", data={"csrf_token": token, "store_name": "X"}).status_code == 403
    sign_in(client, "teemu", PW)  # technician: devices only
    assert client.get(f"/admin/stores/{mine}").status_code == 403
    tech = csrf_of(client.get("/devices").text)
    assert client.post(f"/admin/stores/{mine}/team-links", data={"csrf_token": tech}).status_code == 403
    sign_in(client, "risto", PW)  # regional manager of the region: may
    assert client.get(f"/admin/stores/{other}").status_code == 200
    assert revoke_form(client, other, link.id).status_code == 303
    assert not team_links.get_link(app.state.engine, other, link.id).active
    sign_in(client, "admin", PW)
    assert 'name="question_fi"' in client.get(f"/admin/stores/{mine}").text


def test_team_screen_speaks_the_stores_first_language_and_switches(client, env):
    from server import admin

    app, s = env
    sid = s.store_ids[3]
    cfg = admin.store_config(app.state.engine, sid)
    admin.update_store_config(app.state.engine, sid, cfg.model_copy(update={"languages": ["sv", "fi"]}))
    _link, token = team_links.create_link(app.state.engine, sid, "Personalrum", None)
    assert "Leenden i dag" in client.get(f"/team/{token}").text
    assert "Hymyjä tänään" in client.get(f"/team/{token}?lang=fi").text
    assert "Smiles today" in client.get(f"/team/{token}?lang=en").text
    assert "Leenden i dag" in client.get(f"/team/{token}?lang=xx").text
    assert "Smiles today" in client.get(f"/team/{token}/live.json?lang=en").json()["stores"][0]["html"]
    assert f"/team/{token}/live.json?lang=sv" in client.get(f"/team/{token}").text  # the poll keeps the language


def test_team_screen_counts_todays_smiles_and_records_its_use(client, env):
    app, s = env
    sid = s.store_ids[2]
    link, token = team_links.create_link(app.state.engine, sid, "Tabletti", None)
    assert link.last_used_at is None
    before = client.get(f"/team/{token}/live.json").json()["stores"][0]
    n = int(re.search(r"data-smiles>(\d+)<", before["html"]).group(1))
    send(env, 2, [press(4), press(3), press(1), press(2)])
    after = client.get(f"/team/{token}/live.json").json()["stores"][0]
    assert int(re.search(r"data-smiles>(\d+)<", after["html"]).group(1)) == n + 2
    assert after["version"] != before["version"]
    assert team_links.get_link(app.state.engine, sid, link.id).last_used_at is not None


def test_deleted_comment_leaves_the_team_screen_and_the_praise_page(client, env):
    app, s = env
    sid = s.store_ids[0]
    happy("Soita minulle 040 1234567", 0, env, praise=None)
    _link, token = team_links.create_link(app.state.engine, sid, "Näyttö", None)
    before = client.get(f"/team/{token}/live.json").json()["stores"][0]
    assert "040 1234567" in before["html"]
    sign_in(client, "anna", PW)  # a store manager may read it, not delete it (admins do, as in the API)
    page = client.get(f"/praise?store={sid}")
    assert "040 1234567" in page.text and "Poista kommentti" not in page.text
    sign_in(client, "admin", PW)
    page = client.get(f"/praise?store={sid}")
    comment_id = re.search(r'action="/praise/comments/([0-9a-f-]+)/delete"', page.text).group(1)
    assert client.post(f"/praise/comments/{comment_id}/delete", data={"next": "/praise"}).status_code == 403
    r = client.post(f"/praise/comments/{comment_id}/delete",
                    data={"csrf_token": csrf_of(page.text), "next": f"/praise?store={sid}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/praise?store={sid}"
    assert "040 1234567" not in client.get(r.headers["location"]).text
    after = client.get(f"/team/{token}/live.json").json()["stores"][0]
    assert "040 1234567" not in after["html"] and after["version"] != before["version"]


def test_praise_page_shows_what_reaches_the_staff(client, env):
    _, s = env
    sid = s.store_ids[0]
    happy("Ihana asiakaspalvelu tänään", 0, env, praise="advice")
    r = press(1)
    send(env, 0, [r, followup(r["id"], "comment", "Kamala jono tänään")])
    happy("Huollon testikommentti", 0, env, flags=["maintenance"])
    sign_in(client, "anna", PW)
    html = client.get(f"/praise?store={sid}").text
    assert "Ihana asiakaspalvelu tänään" in html and "Hyvä neuvonta" in html
    assert "Kamala jono tänään" not in html and "Huollon testikommentti" not in html
    assert re.search(r"<time>\w+ \d+\.\d+\. \d\d:\d\d</time>", html)  # each message with its date and time
    assert f'href="/admin/stores/{sid}#team"' in html  # the way to the team screen setup
    assert "Kehuviestit" in html and "Mistä asiakkaat kehuivat" in html


def test_link_address_follows_the_public_url_or_https_proxy(client, env, monkeypatch):
    app, s = env
    sid = s.store_ids[0]
    sign_in(client, "anna", PW)
    page = client.get(f"/admin/stores/{sid}")
    r = client.post(f"/admin/stores/{sid}/team-links", data={"csrf_token": csrf_of(page.text), "name": "Proxy"},
                    headers={"X-Forwarded-Proto": "https"})
    assert TEAM_URL.search(r.text).group(1).startswith("https://testserver/team/")
    monkeypatch.setattr(app.state.dashboard, "settings", app.state.dashboard.settings.with_(
        public_url="https://hymy.example.fi"))
    r = client.post(f"/admin/stores/{sid}/team-links", data={"csrf_token": csrf_of(page.text), "name": "Public"})
    assert TEAM_URL.search(r.text).group(1).startswith("https://hymy.example.fi/team/")
    assert "<svg" in r.text  # the QR code of the address
