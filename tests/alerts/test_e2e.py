"""End to end on a real server (Uvicorn on loopback): presses posted through the device API ->
one signed webhook within 5 s at a real local HTTP receiver, the alert mail and the daily report at a
real aiosmtpd server, and acknowledgement through the manager API closes the alert."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hymy.hours import zone
from hymy.protocol import AlertRule, default_store_config
from hymy.timestamps import utcnow
from server import admin, auth
from server.alerts.smtp import SmtpSettings
from server.alerts.webhook import verify
from server.settings import Settings
from server.testing import serve
from tests.alerts.helpers import ENGLISH_FIRST, response
from tests.alerts.servers import WebhookReceiver, smtp_server

pytestmark = pytest.mark.slow

SECRET = "whsec-test-1"


@pytest.fixture
def world(tmp_path):
    """A running server with e-mail to aiosmtpd, a store with the default rule, an enrolled device,
    a store manager with an API token, and the store's channels set through the API."""
    with WebhookReceiver() as rx, smtp_server() as (smtp_port, sink):
        settings = Settings(
            database_url=f"sqlite:///{tmp_path}/server.db", secure_cookies=False,
            smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, sender="hymy@shop.example"),
            public_url="http://hymy.test", alert_sweep_s=0.2, report_interval_s=3600,
        )
        with serve(settings) as running:
            engine = running.app.state.engine
            cfg = default_store_config().model_dump(mode="json")
            cfg.pop("store_id")
            cfg["alert_rules"] = [AlertRule(id="unhappy", kind="negative_share").model_dump(mode="json")]
            cfg["languages"] = ENGLISH_FIRST  # the English texts below; test_language.py covers fi and sv
            sid = admin.create_store(engine, "Kauppa Keskusta", timezone="Europe/Helsinki", config=cfg)
            dev = admin.create_device(engine, sid, "till 1")
            manager = auth.create_user(engine, "maija", "correct horse battery", "store_manager", stores=[sid])
            api_token = auth.create_api_token(engine, manager)
            http = httpx.Client(base_url=running.base_url, timeout=10)
            r = http.post("/api/v1/enroll", json={"code": dev.code})
            assert r.status_code == 200, r.text
            device = {"Authorization": f"Bearer {r.json()['token']}"}
            mgr = {"Authorization": f"Bearer {api_token}"}
            r = http.put(f"/api/v1/stores/{sid}/alert-channels", headers=mgr, json={
                "webhook_url": rx.url, "webhook_secret": SECRET, "email_to": ["maija@shop.example"],
                "daily_report": True})
            assert r.status_code == 200, r.text
            assert r.json()["webhook_secret_set"] is True and "webhook_secret" not in r.json()
            yield {"http": http, "device": device, "mgr": mgr, "sid": sid, "rx": rx, "sink": sink,
                   "app": running.app, "engine": engine}
            http.close()


def post_presses(w, moods, *, start=None):
    start = start or utcnow() - timedelta(seconds=len(moods))
    events = [response(m, start + timedelta(milliseconds=200 * i)) for i, m in enumerate(moods)]
    r = w["http"].post("/api/v1/responses", headers=w["device"], json={"events": events})
    assert r.status_code == 200, r.text
    assert {x["status"] for x in r.json()["results"]} == {"accepted"}
    return events


def test_e2e_presses_to_one_signed_webhook_mail_acknowledge_and_daily_report(world):
    w = world
    rx, sink = w["rx"], w["sink"]
    post_presses(w, [4, 3, 1])  # 1 of 3 unhappy and below min_count: nothing
    time.sleep(0.5)
    assert rx.requests == []
    sent_at = time.monotonic()
    post_presses(w, [2])  # 2 of 4 = 50 %: crosses the default rule
    (hook,) = rx.wait_for(1, timeout_s=5)
    assert hook.at - sent_at < 5.0
    assert verify(SECRET, hook.headers["X-Hymy-Timestamp"], hook.headers["X-Hymy-Signature"], hook.body)
    body = json.loads(hook.body)
    assert hook.headers["X-Hymy-Event"] == body["event"] == "alert.fired"
    assert body["text"].startswith("Many unhappy customers at Kauppa Keskusta: 2 of 4 presses (50%)")
    alert_id = body["alert"]["alert_id"]
    assert body["alert"]["url"] == f"http://hymy.test/alerts#alert-{alert_id}"  # the dashboard's list

    (mail,) = sink.wait_for(1)
    assert mail["Subject"] == "[Hymy] Many unhappy customers at Kauppa Keskusta"
    assert sink.envelopes[0][1] == ["maija@shop.example"]

    # the condition persists with more unhappy presses and sweeps: still exactly one webhook
    post_presses(w, [1, 1])
    time.sleep(1.0)  # several sweeps (every 0.2 s) and the post-ingest hook have run
    assert [r.headers["X-Hymy-Event"] for r in rx.requests] == ["alert.fired"]
    assert len(sink.messages) == 1

    # the dashboard's list shows it open; acknowledging (signed in with a session, JSON) closes it
    http = w["http"]
    r = http.get("/api/v1/alerts", params={"status": "open"}, headers=w["mgr"])
    assert [a["id"] for a in r.json()] == [alert_id]
    browser = httpx.Client(base_url=http.base_url, timeout=10)  # the dashboard, signed in with a session
    login = browser.post("/api/v1/session", json={"username": "maija", "password": "correct horse battery"})
    assert login.status_code == 200 and "hymy_session" in browser.cookies
    bare = browser.post(f"/api/v1/alerts/{alert_id}/acknowledge", content=b"",
                        headers={"Content-Type": "text/plain"})
    assert bare.status_code == 403  # a cross-site form post would look like this
    r = browser.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"comment": "spoke with the customer"})
    browser.close()
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged" and r.json()["acknowledged_by"] == "maija"
    assert http.get("/api/v1/alerts", params={"status": "open"}, headers=w["mgr"]).json() == []
    acked = rx.wait_for(2)
    assert acked[1].headers["X-Hymy-Event"] == "alert.acknowledged"
    assert verify(SECRET, acked[1].headers["X-Hymy-Timestamp"], acked[1].headers["X-Hymy-Signature"], acked[1].body)
    want = {("webhook", "alert.fired", "sent"), ("email", "alert.fired", "sent"),
            ("webhook", "alert.acknowledged", "sent")}
    deadline = time.monotonic() + 5  # the receiver has the webhook a moment before its delivery row says sent
    while True:
        detail = http.get(f"/api/v1/alerts/{alert_id}", headers=w["mgr"]).json()
        got = {(d["channel"], d["event"], d["status"]) for d in detail["deliveries"]}
        if got >= want or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [c["body"] for c in detail["comments"]] == ["spoke with the customer"]
    assert got >= want

    # the daily report, as the app's own scheduler sends it after the local day has ended
    tz = zone("Europe/Helsinki")
    today = utcnow().astimezone(tz).date()
    after_day = datetime.combine(today + timedelta(days=1), datetime.min.time(), tz) + timedelta(minutes=20)
    sent = w["app"].state.reports.run_once(after_day.astimezone(UTC))
    assert today in [s.local_date for s in sent]
    reports = [m for m in sink.wait_for(2 + len(sent) - 1) if m["Subject"].startswith("Hymy daily report")]
    day_label = today.strftime("%a %d.%m.%Y")
    (report,) = [m for m in reports if day_label in m["Subject"]]
    assert report["Subject"].endswith("N=6")
    assert "Happy Index" in report.get_body(("plain",)).get_content()
    assert 'class="bar"' in report.get_body(("html",)).get_content()


def test_e2e_alert_api_authorisation(world):
    w = world
    http, engine, sid = w["http"], w["engine"], w["sid"]
    other = admin.create_store(engine, "Toinen", timezone="Europe/Helsinki")
    outsider = auth.create_user(engine, "olli", "another long password", "store_manager", stores=[other])
    tech = auth.create_user(engine, "teemu", "another long password", "technician")
    h_out = {"Authorization": f"Bearer {auth.create_api_token(engine, outsider)}"}
    h_tech = {"Authorization": f"Bearer {auth.create_api_token(engine, tech)}"}
    post_presses(w, [1, 1, 1, 1])
    (hook,) = w["rx"].wait_for(1)
    alert_id = json.loads(hook.body)["alert"]["alert_id"]
    assert http.get("/api/v1/alerts").status_code == 401
    assert http.get("/api/v1/alerts", headers=h_out).json() == []
    assert http.get(f"/api/v1/alerts/{alert_id}", headers=h_out).status_code == 404
    assert http.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=h_out, json={}).status_code == 404
    assert http.get("/api/v1/alerts", headers=h_tech).json() == []
    assert http.get(f"/api/v1/stores/{sid}/alert-channels", headers=h_out).status_code == 404
    assert http.put(f"/api/v1/stores/{sid}/alert-channels", headers=h_out, json={}).status_code == 404
    assert http.get("/api/v1/alerts", params={"store": sid}, headers=w["mgr"]).json()[0]["id"] == alert_id
    r = http.put(f"/api/v1/stores/{sid}/alert-channels", headers=w["mgr"],
                 json={"webhook_url": "ftp://x", "email_to": []})
    assert r.status_code == 422
    r = http.put(f"/api/v1/stores/{sid}/alert-channels", headers=w["mgr"], json={"email_to": ["not-an-address"]})
    assert r.status_code == 422 and "email_to" in r.text
    r = http.post(f"/api/v1/alerts/{alert_id}/comments", headers=w["mgr"], json={"body": "on it"})
    assert r.status_code == 201 and r.json()["author"] == "maija"


def test_e2e_test_notice_reaches_the_channels(world):
    w = world
    r = w["http"].post(f"/api/v1/stores/{w['sid']}/alert-channels/test", headers=w["mgr"])
    assert r.status_code == 200
    assert {x["channel"]: x["status"] for x in r.json()["results"]} == {"webhook": "sent", "email": "sent"}
    (hook,) = w["rx"].wait_for(1)
    assert hook.headers["X-Hymy-Event"] == "alert.test"
    (mail,) = w["sink"].wait_for(1)
    assert "Test alert" in mail.get_body(("plain",)).get_content()


def test_e2e_rules_via_the_api_reach_the_kiosk_config_and_close_episodes(world):
    w = world
    http, sid = w["http"], w["sid"]
    assert [r["id"] for r in http.get(f"/api/v1/stores/{sid}/alert-rules", headers=w["mgr"]).json()] == ["unhappy"]
    post_presses(w, [1, 1, 1, 1])
    (hook,) = w["rx"].wait_for(1)
    etag = http.get("/api/v1/config", headers=w["device"]).headers["etag"]
    rules = [{"id": "low", "kind": "index_below", "threshold": 20, "window_min": 30, "min_count": 6, "local": True},
             {"id": "angry", "kind": "face_count", "mood": 1, "threshold": 10}]
    r = http.put(f"/api/v1/stores/{sid}/alert-rules", headers=w["mgr"], json=rules)
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()] == ["angry", "low"] or [x["id"] for x in r.json()] == ["low", "angry"]
    # the removed rule's episode closed at once, and the kiosk's next config pull has the new rules
    events = [x.headers["X-Hymy-Event"] for x in w["rx"].wait_for(2)]
    assert events == ["alert.fired", "alert.cleared"]
    cfg = http.get("/api/v1/config", headers={**w["device"], "If-None-Match": etag})
    assert cfg.status_code == 200 and {r["id"] for r in cfg.json()["alert_rules"]} == {"low", "angry"}
    bad = http.put(f"/api/v1/stores/{sid}/alert-rules", headers=w["mgr"], json=[{"id": "x", "kind": "face_count"}])
    assert bad.status_code == 422  # face_count needs a mood
    dup = http.put(f"/api/v1/stores/{sid}/alert-rules", headers=w["mgr"],
                   json=[{"id": "x", "kind": "index_below"}, {"id": "x", "kind": "index_above"}])
    assert dup.status_code == 422 and "1.id: 'x' is used by an earlier rule" in dup.text
    too_many = [{"id": f"r{i}", "kind": "index_below"} for i in range(21)]
    assert http.put(f"/api/v1/stores/{sid}/alert-rules", headers=w["mgr"], json=too_many).status_code == 422
