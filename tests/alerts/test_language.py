"""Alert notices and report e-mails speak the store's first language (fi, sv, en): through a real
aiosmtpd server and a real loopback webhook receiver, and never crash where a translation is missing."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import insert

from hymy.protocol import default_store_config
from hymy.rules import RULE_KINDS, Evaluation
from server import admin
from server.alerts import language
from server.alerts.engine import AlertService
from server.alerts.notice import AlertNotice, alert_mail, webhook_payload
from server.alerts.smtp import SmtpSettings, send_message
from server.alerts.tables import alert_channels
from server.reports import data as report_data
from server.reports.render import ChartRow, ReportData, render_report
from server.reports.scheduler import ReportScheduler
from tests.alerts.helpers import UNHAPPY, followup, press, response
from tests.alerts.servers import WebhookReceiver, smtp_server

ROOT = Path(__file__).resolve().parents[2] / "server"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = {d: ["08:00-21:00"] for d in DAYS}
DAY = date(2026, 11, 23)  # Monday; Helsinki UTC+2, closes 19:00 UTC
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki

#: What each language's mail says, for the same store and the same presses.
EXPECT = {
    "fi": {"report": "Hymy, päivän raportti: Kauppa Keskusta, ma 23.11.2026: Tyytyväisyysindeksi 67, N=3",
           "reasons": "Yleisimmät tyytymättömyyden syyt", "reason": "Jono",
           "alert": "[Hymy] Paljon tyytymättömiä asiakkaita (Kauppa Keskusta)",
           "text": "Paljon tyytymättömiä asiakkaita (Kauppa Keskusta): 2/4 painallusta (50 %) tyytymättömiä "
                   "viimeisen 15 min aikana (raja 50 %)",
           "fired": "Hälytys alkoi: 23.11.2026 12.00 (Europe/Helsinki)"},
    "sv": {"report": "Hymy, dagsrapport: Kauppa Keskusta, mån 23.11.2026: Nöjdhetsindex 67, N=3",
           "reasons": "Vanligaste orsakerna till missnöje", "reason": "Kön",
           "alert": "[Hymy] Många missnöjda kunder i Kauppa Keskusta",
           "text": "Många missnöjda kunder i Kauppa Keskusta: 2 av 4 tryck (50 %) missnöjda under de senaste "
                   "15 min (gräns 50 %)",
           "fired": "Larmet gick: 2026-11-23 12:00 (Europe/Helsinki)"},
    "en": {"report": "Hymy daily report: Kauppa Keskusta, Mon 23.11.2026: Happy Index 67, N=3",
           "reasons": "Top reasons for unhappiness", "reason": "Queue",
           "alert": "[Hymy] Many unhappy customers at Kauppa Keskusta",
           "text": "Many unhappy customers at Kauppa Keskusta: 2 of 4 presses (50%) unhappy in the last 15 min "
                   "(limit 50%)",
           "fired": "Fired at: 2026-11-23T10:00:00.000Z"},
}


def store(engine, languages: list[str]) -> tuple[str, str]:
    """A store "Kauppa Keskusta" in Helsinki, open 08-21, speaking ``languages``, with the default
    unhappy rule and e-mail recipients; returns (store_id, device_id)."""
    cfg = default_store_config().model_dump(mode="json")
    cfg.update(store_name="Kauppa Keskusta", timezone="Europe/Helsinki", opening_hours=HOURS, languages=languages,
               alert_rules=[UNHAPPY.model_dump(mode="json")])
    cfg.pop("store_id")
    sid = admin.create_store(engine, "Kauppa Keskusta", timezone="Europe/Helsinki", config=cfg)
    return sid, admin.create_device(engine, sid, "till 1").device_id


def channels(engine, sid: str, **kw) -> None:
    with engine.begin() as conn:
        conn.execute(insert(alert_channels).values(store_id=sid, email_to="boss@shop.example", daily_report=True,
                                                   weekly_report=False, **kw))


def body(msg, kind: str) -> str:
    return msg.get_body((kind,)).get_content()


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_daily_report_arrives_in_the_stores_first_language(db, lang):
    sid, dev = store(db, [lang, "en"] if lang != "en" else ["en", "fi"])
    happy = response(4, datetime(2026, 11, 23, 7, 5, tzinfo=UTC))
    sad = response(1, datetime(2026, 11, 23, 15, 10, tzinfo=UTC))
    press(db, sid, dev, happy, response(4, datetime(2026, 11, 23, 7, 6, tzinfo=UTC)), sad,
          followup(sad["id"], "reason", "queue", datetime(2026, 11, 23, 15, 10, 3, tzinfo=UTC)))
    channels(db, sid)
    with smtp_server() as (port, sink):
        smtp = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")
        sent = ReportScheduler(db, smtp, base_url="http://hymy.local").run_once(datetime(2026, 11, 24, 6, tzinfo=UTC))
        assert [(s.period, s.local_date) for s in sent] == [("daily", DAY)]
        (msg,) = sink.wait_for(1)
    want = EXPECT[lang]
    assert msg["Subject"] == want["report"]
    text, html = body(msg, "plain"), body(msg, "html")
    assert want["reasons"] in text and want["reason"] in text
    assert f'<html lang="{lang}">' in html and want["reasons"] in html
    if lang != "en":
        for english in ("Happy Index", "report for", "Top reasons", "Sent by Hymy", "very happy"):
            assert english not in text and english not in html


def test_weekly_report_names_the_days_in_the_stores_language(db):
    sid, dev = store(db, ["sv", "fi"])
    press(db, sid, dev, response(4, datetime(2026, 11, 17, 9, tzinfo=UTC)))
    with db.connect() as conn:
        week = report_data.weekly(conn, sid, date(2026, 11, 16))
    r = render_report(week)
    assert [row.label for row in week.rows][:2] == ["mån 16.11.", "tis 17.11."]
    assert r.subject == "Hymy, veckorapport: Kauppa Keskusta, 16.11.-22.11.2026: Nöjdhetsindex 100, N=1"
    assert "Tryck per dag:" in r.text and "tis 17.11." in r.text and "mycket nöjd" in r.text


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_alert_mail_and_webhook_text_arrive_in_the_stores_first_language(db, lang):
    sid, dev = store(db, [lang] if lang != "en" else ["en", "sv"])
    with WebhookReceiver() as rx, smtp_server() as (port, sink):
        channels(db, sid, webhook_url=rx.url)
        smtp = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")
        svc = AlertService(db, clock=lambda: T0, smtp=smtp, asynchronous=False, webhook_wait_s=0.01)
        moods = (1, 4, 2, 4)
        press(db, sid, dev, *[response(m, T0 - timedelta(seconds=60 - 10 * i)) for i, m in enumerate(moods)])
        (notice,) = svc.evaluate_store(sid, now=T0)
        (req,) = rx.wait_for(1)
        (mail,) = sink.wait_for(1)
        svc.close()
    want = EXPECT[lang]
    payload = json.loads(req.body)
    assert payload["text"] == want["text"]
    assert payload["lang"] == lang
    # what a receiver parses stays the same in every language
    assert payload["event"] == "alert.fired" and payload["alert"]["kind"] == "negative_share"
    assert payload["alert"]["summary"] == "2 of 4 presses (50%) unhappy in the last 15 min (limit 50%)"
    assert payload["alert"]["alert_id"] == notice.alert_id and payload["alert"]["value"] == 50.0
    assert mail["Subject"] == want["alert"]
    text = body(mail, "plain")
    assert text.startswith(want["text"]) and want["fired"] in text


def test_a_store_without_a_known_language_speaks_finnish():
    assert language.store_language(None) == "fi"
    assert language.store_language(default_store_config()) == "fi"  # fi, sv, en
    assert language.store_language(default_store_config().model_copy(update={"languages": ["sv", "fi"]})) == "sv"


def test_every_rule_sentence_reads_in_finnish_and_swedish_with_local_numbers():
    base = dict(rule_id="r", active=True, n=12, threshold=37.5, window_min=15, min_count=4, at=T0)
    sentences = [
        Evaluation(kind="negative_share", value=41.6667, **base).describe(),
        Evaluation(kind="index_below", value=33.3, **base).describe(),
        Evaluation(kind="index_above", value=90.0, **base).describe(),
        Evaluation(kind="face_count", value=5, mood=1, **base).describe(),
        Evaluation(kind="negative_share", value=None, **{**base, "n": 2}).describe(),
        Evaluation(kind="negative_share", value=None, open=False, **base).describe(),
        "rule removed",
        "test from maija: " + Evaluation(kind="negative_share", value=50.0, **base).describe(),
    ]
    english = re.compile(r"\b(presses|unhappy|in the last|limit|alert|needed|store|rule|from)\b")
    for lang in ("fi", "sv"):
        for s in sentences:
            local = language.summary(s, lang)
            assert local != s and not english.search(local), (lang, s, local)
        assert "37,5 %" in language.summary(sentences[0], lang)
    assert [language.summary(s, "en") for s in sentences] == sentences


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_catalogs_translate_every_notice_and_report_text(lang):
    pat = re.compile(r"""\bN?_\(\s*(['"])((?:\\.|(?!\1).)*)\1""")
    files = [*(ROOT / "alerts").glob("*.py"), *(ROOT / "reports").glob("*.py"), *(ROOT / "reports" / "templates").iterdir()]
    used = {m.group(2) for p in files for m in pat.finditer(p.read_text())}
    assert len(used) > 40
    used |= {text for kind in RULE_KINDS.values() for text in (kind.title, kind.label, kind.sentence, kind.summary)}
    catalog = server_catalog(lang)
    assert sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string)) == []
    placeholder = re.compile(r"%\(\w+\)s|%%")
    for m in used:
        assert sorted(placeholder.findall(catalog.get(m).string)) == sorted(placeholder.findall(m)), m


def server_catalog(lang: str):
    with open(ROOT / "locale" / lang / "LC_MESSAGES" / "server.po", "rb") as fh:
        return read_po(fh, locale=lang)


def test_a_missing_translation_falls_back_to_english_without_crashing():
    _ = language.gettext("fi")
    assert _("A sentence no catalog has, %(n)s times", n=3) == "A sentence no catalog has, 3 times"
    assert language.gettext("de")("Happy Index") == "Happy Index"  # a language Hymy does not speak
    assert language.summary("5 customers left a bad review", "fi") == "5 customers left a bad review"
    data = dict(store_id="s1", store_name="Kauppa", timezone="Europe/Helsinki", period="daily", start=DAY, end=DAY,
                scale=4, counts={4: 3, 1: 1}, rows=[ChartRow("09:00", {4: 3, 1: 1})])
    unknown, english = render_report(ReportData(**data, lang="de")), render_report(ReportData(**data))
    assert unknown.subject == english.subject == "Hymy daily report: Kauppa, Mon 23.11.2026: Happy Index 75, N=4"
    assert unknown.text == english.text
    odd = AlertNotice(event="alert.fired", alert_id=1, store_id="s1", store_name="Kauppa", rule_id="x",
                      kind="new_kind", summary="something new happened", fired_at=T0, n=4, value=1.0,
                      threshold=1.0, window_min=15)
    assert webhook_payload(odd, T0, "fi")["text"] == "new_kind (Kauppa): something new happened"
    with smtp_server() as (port, sink):
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")
        send_message(settings, alert_mail(settings, ["boss@shop.example"], odd, "sv", "No/Such_Zone"))
        (msg,) = sink.wait_for(1)
    assert msg["Subject"] == "[Hymy] new_kind i Kauppa"
    assert "Larmet gick: 2026-11-23T10:00:00.000Z" in body(msg, "plain")  # an unknown zone: UTC
