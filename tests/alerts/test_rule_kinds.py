"""Alert-rule kinds are defined once (``hymy.rules.RULE_KINDS``) and everything else derives from them:
the wire contract's validation, the notices, the dashboard's alert list and the admin form (issue 17)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from hymy import rules
from hymy.protocol import AlertRule
from hymy.score import is_positive
from hymy.timestamps import utcnow
from server import auth
from server.alerts.notice import AlertNotice
from server.app import create_app
from server.settings import Settings
from tests.alerts.helpers import add_store, press, response
from tests.dashboard.harness import sign_in

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def test_no_file_but_hymy_rules_lists_the_rule_kinds():
    """A file naming two or more kinds is listing them; only the registry may. (Naming one kind, as a
    sample rule does, is using it.)"""
    names = set(rules.RULE_KINDS)
    listing = {}
    for folder in ("hymy", "kiosk", "hardware", "sync", "server", "deploy"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".html", ".js", ".kv") or "migrations" in path.parts:
                continue
            rel = path.relative_to(ROOT).as_posix()
            found = {n for n in names if re.search(rf"\b{n}\b", path.read_text())}
            if len(found) >= 2 and rel != "hymy/rules.py":
                listing[rel] = sorted(found)
    assert listing == {}


def _happy_count(rule, tally: Counter, n: int):
    count = sum(c for (scale, mood), c in tally.items() if is_positive(mood, scale))
    return Fraction(count), count >= Fraction(rule.threshold)


PRAISE = rules.RuleKind(
    "happy_count", _happy_count, title="Many happy customers", label="happy presses, at least the threshold",
    sentence="%(v)s happy presses among %(n)s in the last %(w)s min (limit %(t)s)",
    summary="%(v)s happy presses in %(w)s min (limit %(t)s)")


@pytest.fixture
def praise_kind(monkeypatch):
    """A kind registered only in the registry, for this test."""
    monkeypatch.setitem(rules.RULE_KINDS, PRAISE.name, PRAISE)
    return PRAISE


def test_a_kind_registered_once_reaches_the_protocol_the_notices_the_alert_list_and_the_admin_form(
        praise_kind, tmp_path):
    with pytest.raises(ValidationError, match="is not a rule kind; use one of negative_share"):
        AlertRule(id="x", kind="nonsense")
    rule = AlertRule(id="cheer", kind="happy_count", threshold=3, min_count=3)
    assert "happy_count" in AlertRule.model_json_schema()["properties"]["kind"]["enum"]

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/server.db", secure_cookies=False,
                              background_jobs=False, device_rate_per_min=0, ip_rate_per_min=0))
    engine = app.state.engine
    try:
        sid, dev = add_store(engine, rules=(rule,))
        now = utcnow()
        press(engine, sid, dev, *[response(4, now - timedelta(seconds=20 - i)) for i in range(3)])
        (notice,) = app.state.alerts.evaluate_store(sid)
        assert notice.kind == "happy_count" and notice.title == "Many happy customers"
        assert notice.summary == "3 happy presses among 3 in the last 15 min (limit 3)"  # the kind's sentence
        assert AlertNotice.from_dict(notice.as_dict()).headline() == "Many happy customers at Kauppa Keskusta"
        auth.create_user(engine, "ada", PASSWORD, "admin")
        with TestClient(app) as client:
            sign_in(client, "ada", PASSWORD)
            client.cookies.set("hymy_lang", "en")
            alerts = client.get("/alerts").text
            assert "3 happy presses in 15 min (limit 3)" in alerts  # the kind's short line
            form = client.get(f"/admin/stores/{sid}").text
            assert '<option value="happy_count" selected>Many happy customers</option>' in form
            assert "<b>Many happy customers</b>: happy presses, at least the threshold" in form
    finally:
        engine.dispose()


def test_the_built_in_kinds_speak_every_language_on_the_admin_form(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/server.db", secure_cookies=False,
                              background_jobs=False))
    try:
        sid, _dev = add_store(app.state.engine)
        auth.create_user(app.state.engine, "ada", PASSWORD, "admin")
        with TestClient(app) as client:
            sign_in(client, "ada", PASSWORD)
            client.cookies.set("hymy_lang", "fi")
            form = client.get(f"/admin/stores/{sid}").text
        options = re.findall(r'<option value="(\w+)"( selected)?>([^<]+)</option>', form)
        kinds = [(v, label) for v, sel, label in options if v in rules.RULE_KINDS]
        assert [v for v, _ in kinds][:len(rules.RULE_KINDS)] == list(rules.RULE_KINDS)
        assert ("negative_share", "Paljon tyytymättömiä asiakkaita") in kinds
        assert "ikkunan tyytyväisyysindeksi alle rajan (0–100)" in form
    finally:
        app.state.engine.dispose()


def test_a_face_count_rule_still_needs_its_face():
    with pytest.raises(ValidationError, match="mood is required for kind face_count"):
        AlertRule(id="x", kind="face_count")
    ev = rules.evaluate(AlertRule(id="x", kind="face_count", mood=1, threshold=2, min_count=1),
                        [rules.Press(at=datetime.fromisoformat("2026-11-23T10:00:00+00:00"), mood=1)] * 2,
                        datetime.fromisoformat("2026-11-23T10:01:00+00:00"))
    assert ev.active and ev.describe() == "2 presses of face 1 among 2 in the last 15 min (limit 2)"
