"""Alert notices and report e-mails speak the store's first language (fi, sv, en): through a real
aiosmtpd server and a real loopback webhook receiver, and never crash where a translation is missing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from hymy.rules import Evaluation
from server.alerts import language
from server.alerts.notice import AlertNotice, alert_mail, webhook_payload
from server.alerts.smtp import SmtpSettings, send_message
from server.reports.render import ChartRow, ReportData, render_report
from sync.protocol import default_store_config
from tests.alerts.servers import smtp_server

ROOT = Path(__file__).resolve().parents[2] / "server"
DAY = date(2026, 11, 23)  # Monday; Helsinki UTC+2, closes 19:00 UTC
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki

def body(msg, kind: str) -> str:
    return msg.get_body((kind,)).get_content()


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
    with open(ROOT / "dashboard" / "locale" / lang / "LC_MESSAGES" / "dashboard.po", "rb") as fh:
        catalog = read_po(fh, locale=lang)
    assert sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string)) == []
    placeholder = re.compile(r"%\(\w+\)s|%%")
    for m in used:
        assert sorted(placeholder.findall(catalog.get(m).string)) == sorted(placeholder.findall(m)), m


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
