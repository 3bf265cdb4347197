"""The dashboard over HTTP (the real app in-process, a real SQLite file): sign-in, CSRF, roles, pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from hymy.timestamps import format_ts, utcnow
from server import admin
from server import tables as t
from server.dashboard.sample import DEFAULT_PASSWORD as PW

from .harness import csrf_of, make_app, open_around_the_clock, sign_in


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    app, sample = make_app(tmp_path_factory.mktemp("dash"))
    return app, sample


@pytest.fixture
def client(env):
    app, _ = env
    with app.state.engine.begin() as conn:  # no failed sign-ins left from the tests before
        conn.execute(delete(t.attempts))
    with TestClient(app) as c:
        yield c


def test_login_page_then_sign_in_lands_on_today_with_httponly_lax_cookie(client):
    r = client.get("/today", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/today"
    r = sign_in(client, "anna", PW, "/today")
    assert r.status_code == 303 and r.headers["location"] == "/today"
    cookie = r.headers["set-cookie"]
    assert "hymy_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    page = client.get("/today")
    assert page.status_code == 200 and "Helsinki Kamppi" in page.text and "N =" in page.text


def test_cookie_is_secure_behind_https_proxy(client):
    page = client.get("/login")
    r = client.post("/login", data={"username": "anna", "password": PW, "csrf_token": csrf_of(page.text)},
                    headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_wrong_password_is_refused_with_a_clear_message(client):
    r = sign_in(client, "anna", "not the password")
    assert r.status_code == 401 and "Väärä käyttäjätunnus tai salasana." in r.text
    assert "hymy_session" not in r.headers.get("set-cookie", "")


def test_login_throttled_after_five_failures_with_retry_message(client):
    for _ in range(5):
        assert sign_in(client, "risto", "guess").status_code == 401
    r = sign_in(client, "risto", PW)  # even the right password waits
    assert r.status_code == 429 and "Liian monta epäonnistunutta kirjautumista" in r.text
    assert int(r.headers["retry-after"]) > 0


def test_login_without_csrf_token_is_refused(client):
    client.get("/login")
    r = client.post("/login", data={"username": "anna", "password": PW}, follow_redirects=False)
    assert r.status_code == 403


def test_session_id_is_regenerated_at_sign_in(client, env):
    sign_in(client, "anna", PW)
    first = client.cookies.get("hymy_session")
    sign_in(client, "anna", PW)
    second = client.cookies.get("hymy_session")
    assert first and second and first != second
    assert env[0].state.dashboard.user_for_session(first) is None


def test_idle_session_goes_back_to_sign_in(client, env):
    app, _ = env
    sign_in(client, "anna", PW)
    old = format_ts(utcnow() - timedelta(seconds=app.state.settings.session_idle_s + 5))
    with app.state.engine.begin() as conn:
        conn.execute(update(t.sessions).values(last_seen_at=old))
    r = client.get("/today", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_every_page_opens_for_a_regional_manager(client, env):
    _, s = env
    sign_in(client, "risto", PW)
    sid = s.store_ids[0]
    for path in ["/today", "/today.json", f"/stores/{sid}/day", f"/stores/{sid}/trends?days=365",
                 f"/stores/{sid}/trends?days=90", f"/stores/{sid}/heatmap?days=30", "/compare?days=7", "/reasons",
                 f"/reasons?store={sid}", "/praise", f"/praise?store={sid}", "/account", "/trends"]:
        r = client.get(path)
        assert r.status_code == 200, path
    assert "<svg" in client.get(f"/stores/{sid}/trends").text


def test_another_stores_url_is_404_for_a_store_manager(client, env):
    _, s = env
    sign_in(client, "anna", PW)
    other = s.store_ids[1]
    for path in [f"/stores/{other}/day", f"/stores/{other}/trends", f"/stores/{other}/heatmap",
                 f"/reasons?store={other}", f"/praise?store={other}", "/stores/no-such/day"]:
        assert client.get(path).status_code == 404, path
    assert "Espoo" not in client.get("/today").text
    assert "Espoo" not in client.get("/today.json").text


def test_roles_technician_sees_devices_only_and_manager_no_devices(client):
    sign_in(client, "teemu", PW)
    assert client.get("/", follow_redirects=False).headers["location"] == "/devices"
    assert client.get("/devices").status_code == 200
    assert client.get("/compare").status_code == 403
    assert client.get("/admin").status_code == 403
    sign_in(client, "anna", PW)
    assert client.get("/devices").status_code == 403
    assert client.get("/admin/users").status_code == 403


def test_technician_sees_no_results_page(client, env):
    _, s = env
    sign_in(client, "teemu", PW)
    sid = s.store_ids[0]
    for path in ["/today.json", "/trends", f"/stores/{sid}/day", f"/stores/{sid}/trends", f"/stores/{sid}/heatmap",
                 "/compare", "/reasons", f"/reasons?store={sid}", "/praise", "/alerts"]:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 403, path
        assert "Helsinki Kamppi" not in r.text, path


def test_dates_out_of_range_in_a_page_address_are_a_422_page_naming_them(client, env):
    _, s = env
    sign_in(client, "risto", PW)
    sid = s.store_ids[0]
    for path, name in [(f"/stores/{sid}/day?date=0001-01-01", "date"), (f"/stores/{sid}/day?date=9999-12-31", "date"),
                       ("/reasons?from=0001-01-01", "from"), ("/reasons?to=9999-12-31", "to"),
                       (f"/praise?store={sid}&from=0001-01-01&to=2026-11-01", "from"), ("/praise?to=2026-02-30", "to")]:
        r = client.get(path)
        assert r.status_code == 422 and f"{name}: " in r.text, path
    for path in [f"/stores/{sid}/day?date=1900-01-01", "/reasons?from=2100-12-01&to=2100-12-31"]:
        assert client.get(path).status_code == 200, path


def test_trends_and_heat_map_mark_the_period_shown_and_fall_back_to_their_default(client, env):
    _, s = env
    sign_in(client, "risto", PW)
    sid = s.store_ids[0]
    for page, asked, shown in [("trends", 90, 90), ("trends", 365, 365), ("trends", 7, 30), ("heatmap", 30, 30),
                               ("heatmap", 12, 90)]:
        html = client.get(f"/stores/{sid}/{page}?days={asked}").text
        current = re.findall(r'<a href="\?days=(\d+)" aria-current="page">', html)
        assert current == [str(shown)], (page, asked)
        assert re.findall(r'<a href="\?days=(\d+)"', html) == ["30", "90", "365"], page
        assert f'href="/stores/{sid}/{page}" aria-current="page"' in html, page  # the store tab of this page


def test_today_json_follows_new_presses(client, env):
    import random

    from hymy.hours import zone
    from server.dashboard.sample import presses
    from server.ingest import ingest

    app, s = env
    sign_in(client, "anna", PW)
    before = {x["id"]: x for x in client.get("/today.json").json()["stores"]}[s.store_ids[0]]
    today = utcnow().astimezone(zone("Europe/Helsinki")).date()
    events = [e for e in presses(s.store_ids[0], "Europe/Helsinki", today, 30, random.Random(1))
              if e["type"] == "response" and not e["flags"]][:3]
    for e in events:
        e["pressed_at"] = format_ts(utcnow() - timedelta(seconds=5))
    ingest(app.state.engine, s.device_ids[s.store_ids[0]], s.store_ids[0], "Europe/Helsinki", events)
    after = {x["id"]: x for x in client.get("/today.json").json()["stores"]}[s.store_ids[0]]
    assert after["n"] == before["n"] + 3 and after["version"] != before["version"]
    assert f'id="store-{s.store_ids[0]}"' in after["html"]


def test_forms_without_csrf_token_get_403(client, env):
    _, s = env
    sign_in(client, "admin", PW)
    sid = s.store_ids[0]
    assert client.post(f"/admin/stores/{sid}", data={"store_name": "X"}).status_code == 403
    assert client.post("/devices", data={"store_id": sid}).status_code == 403
    assert client.post("/admin/users", data={"username": "x"}).status_code == 403
    assert client.post("/account", data={"current": PW, "new": "x" * 12, "again": "x" * 12}).status_code == 403
    assert client.post("/logout").status_code == 403
    assert client.get("/today").status_code == 200  # still signed in


def test_admin_changes_question_text_and_the_store_config_follows(client, env):
    app, s = env
    sign_in(client, "admin", PW)
    sid = s.store_ids[2]
    page = client.get(f"/admin/stores/{sid}")
    assert page.status_code == 200
    form = {"csrf_token": csrf_of(page.text), "store_name": "Vantaa Myyrmäki", "timezone": "Europe/Helsinki",
            "languages": ["fi", "sv"], "question_fi": "Miten viihdyit?", "question_sv": "Hur trivdes du?",
            "question_en": "", "scale": "4", "reason_0_id": "queue", "reason_0_fi": "Jono", "reason_0_sv": "Kö",
            "followup_1": "reason", "followup_2": "reason", "followup_4": "praise", "hours_mon": "08:00-20:00",
            "response_interval_s": "4", "rule_0_id": "many-unhappy", "rule_0_kind": "negative_share",
            "rule_0_window_min": "15", "rule_0_min_count": "5", "rule_0_threshold": "40", "rule_0_local": "1"}
    r = client.post(f"/admin/stores/{sid}", data=form, follow_redirects=False)
    assert r.status_code == 303
    cfg = admin.store_config(app.state.engine, sid)
    assert cfg.question.texts.fi == "Miten viihdyit?" and cfg.question.texts.sv == "Hur trivdes du?"
    assert cfg.languages == ["fi", "sv"] and cfg.opening_hours == {"mon": ["08:00-20:00"]}
    assert [r.id for r in cfg.reasons] == ["queue"] and cfg.alert_rules[0].threshold == 40
    assert cfg.alert_rules[0].local is True
    assert "Tallennettu" in client.get(r.headers["location"]).text


def test_admin_store_form_reports_bad_fields_and_saves_nothing(client, env):
    app, s = env
    sign_in(client, "admin", PW)
    sid = s.store_ids[3]
    before = admin.store_config(app.state.engine, sid)
    page = client.get(f"/admin/stores/{sid}")
    r = client.post(f"/admin/stores/{sid}", data={"csrf_token": csrf_of(page.text), "question_fi": "Uusi?",
                                                  "hours_tue": "25:00-26:00", "timezone": "Mars/Olympus"})
    assert r.status_code == 422 and "opening_hours" in r.text and "timezone" in r.text
    assert admin.store_config(app.state.engine, sid) == before


def test_add_device_shows_code_and_qr_and_the_code_enrols(client, env):
    app, s = env
    sign_in(client, "teemu", PW)
    page = client.get("/devices")
    r = client.post("/devices", data={"csrf_token": csrf_of(page.text), "store_id": s.store_ids[0], "name": "Kassa 9"})
    assert r.status_code == 201 and "<svg" in r.text
    import re

    code = re.search(r'id="enrol-code">([^<]+)<', r.text).group(1)
    device_id, token, cfg = admin.enroll(app.state.engine, code)
    assert cfg.store_id == s.store_ids[0] and token
    page = client.get("/devices")
    assert f'id="device-{device_id}"' in page.text
    r = client.post(f"/devices/{device_id}/revoke", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 200
    from server.admin import device_for_token

    with app.state.engine.connect() as conn:
        assert device_for_token(conn, token) is None


def test_password_change_ends_other_sessions(client, env):
    app, _ = env
    from server import auth

    auth.create_user(app.state.engine, "maija", "first-password-123", "store_manager")
    other = TestClient(app)
    sign_in(other, "maija", "first-password-123")
    assert other.get("/account").status_code == 200
    sign_in(client, "maija", "first-password-123")
    page = client.get("/account")
    bad = client.post("/account", data={"csrf_token": csrf_of(page.text), "current": "wrong", "new": "n" * 14,
                                        "again": "n" * 14})
    assert bad.status_code == 400 and "Nykyinen salasana on väärä." in bad.text
    ok = client.post("/account", data={"csrf_token": csrf_of(page.text), "current": "first-password-123",
                                       "new": "second-password-456", "again": "second-password-456"})
    assert ok.status_code == 200 and "Salasana vaihdettu" in ok.text
    assert client.get("/account").status_code == 200  # this browser got a fresh session
    assert other.get("/account", follow_redirects=False).status_code == 303
    assert sign_in(TestClient(app), "maija", "second-password-456").status_code == 303


def test_language_choice_is_remembered(client):
    sign_in(client, "anna", PW)
    page = client.get("/today")
    assert "Tänään" in page.text
    r = client.post("/lang", data={"lang": "sv", "next": "/today", "csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303 and "hymy_lang=sv" in r.headers["set-cookie"] and "Max-Age=31536000" in r.headers["set-cookie"]
    assert "I dag" in client.get("/today").text
    client.cookies.set("hymy_lang", "en")
    assert "Filtered presses" in client.get("/today").text


def test_export_buttons_point_at_working_csv_endpoints(client, env):
    _, s = env
    sign_in(client, "anna", PW)
    page = client.get(f"/stores/{s.store_ids[0]}/trends")
    import html
    import re

    links = [html.unescape(h) for h in re.findall(r'href="(/api/v1/export/[^"]+)"', page.text)]
    assert len(links) == 2
    for link in links:
        r = client.get(link)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), link
        assert len(r.text.splitlines()) > 2


def test_logout_ends_the_session(client, env):
    sign_in(client, "anna", PW)
    sid = client.cookies.get("hymy_session")
    page = client.get("/today")
    r = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert env[0].state.dashboard.user_for_session(sid) is None


def test_login_form_starts_empty_and_next_never_leaves_the_site(client):
    import re

    page = client.get("/login?next=//evil.example/x")
    assert re.search(r'name="username"[^>]*value=""', page.text)
    assert 'name="next" value=""' in page.text
    r = sign_in(client, "anna", PW, "https://evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = sign_in(client, "anna", PW, "/stores/helsinki-kamppi/trends?days=90")
    assert r.headers["location"] == "/stores/helsinki-kamppi/trends?days=90"


def test_throttle_also_limits_one_address_trying_many_names(client, env):
    app, _ = env
    app.state.dashboard.throttle.max_per_address = 3
    try:
        for name in ("a1", "a2", "a3"):
            assert sign_in(client, name, "x").status_code == 401
        assert sign_in(client, "anna", PW).status_code == 429
    finally:
        app.state.dashboard.throttle.max_per_address = 20


def test_alerts_page_lists_an_alert_and_acknowledges_it(client, env):
    app, s = env
    sid = s.store_ids[0]
    # Presses outside opening hours never alert (CI once ran this at 18:10 on a Sunday, after closing).
    with open_around_the_clock(app.state.engine, sid):
        _alert_and_acknowledge(client, app, s, sid)


def _alert_and_acknowledge(client, app, s, sid):
    import random

    from hymy.hours import zone
    from hymy.protocol import AlertRule
    from server.dashboard.sample import presses
    from server.ingest import ingest

    admin.set_alert_rules(app.state.engine, sid, [AlertRule(id="unhappy", kind="negative_share", window_min=15,
                                                            min_count=4, threshold=50)])
    today = utcnow().astimezone(zone("Europe/Helsinki")).date()
    events = [e for e in presses(sid, "Europe/Helsinki", today, 40, random.Random(2)) if e["type"] == "response"][:6]
    for e in events:
        e.update(mood=1, flags=[], pressed_at=format_ts(utcnow() - timedelta(seconds=30)))
    ingest(app.state.engine, s.device_ids[sid], sid, "Europe/Helsinki", events)
    app.state.alerts.evaluate_store(sid)
    sign_in(client, "anna", PW)
    page = client.get("/alerts")
    assert page.status_code == 200 and "Helsinki Kamppi" in page.text and "avoin" in page.text
    assert "<b>1 avoin hälytys</b>: Helsinki Kamppi ·" in client.get("/today").text  # one: singular, named
    assert "<b>1 avoin hälytys</b>: Helsinki Kamppi ·" in client.get("/today.json").json()["alerts_html"]
    import re

    alert_id = re.search(r'id="alert-(\d+)"', page.text).group(1)
    assert client.post(f"/alerts/{alert_id}/acknowledge", data={"comment": "x"}).status_code == 403
    r = client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf_of(page.text),
                                                            "comment": "Avasimme toisen kassan"})
    assert r.status_code == 200 and "kuittasi Anna" in r.text
    episode = r.text[r.text.index(f'id="alert-{alert_id}"'):].split("</article>")[0]
    assert re.search(r"<li><p>Avasimme toisen kassan</p><footer[^>]*>Anna · [^<]*\d\d:\d\d</footer></li>", episode)
    sign_in(client, "risto", PW)
    assert client.get("/alerts").status_code == 200
    sign_in(client, "teemu", PW)
    assert client.get("/alerts").status_code == 403


def test_today_is_a_table_for_many_stores(client, env, monkeypatch):
    from server.dashboard import today as routes

    sign_in(client, "admin", PW)
    assert 'class="card store"' in client.get("/today").text
    monkeypatch.setattr(routes, "COMPACT_FROM", 2)
    page = client.get("/today").text
    assert 'class="data today-table"' in page and page.count('<tr class="store') == 4
    assert client.get("/today.json").json()["stores"][0]["html"].strip().startswith("<tr")
