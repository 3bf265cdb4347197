"""The store config of the hot paths (``server.storeconfig``): what the device API and the alert evaluation read
must be what ``admin.store_config`` reads, and a change must show on the next read."""

from __future__ import annotations

import json

from hymy.protocol import AlertRule
from server import admin, storeconfig


def _store(engine) -> str:
    return admin.create_store(engine, "Kamppi", timezone="Europe/Helsinki")


def test_config_is_what_admin_reads_with_rules_in_id_order(engine):
    sid = _store(engine)
    rules = [AlertRule(id="b-rule", kind="negative_share", threshold=60.0),
             AlertRule(id="a-rule", kind="index_below", threshold=40.0)]
    admin.set_alert_rules(engine, sid, rules)
    assert storeconfig.config(engine, sid) == admin.store_config(engine, sid)
    assert [r.id for r in storeconfig.config(engine, sid).alert_rules] == ["a-rule", "b-rule"]
    etag, body = storeconfig.answer(engine, sid)
    assert json.loads(body) == admin.store_config(engine, sid).model_dump(mode="json")
    assert etag == storeconfig.etag(json.loads(body))


def test_a_changed_config_or_rule_is_read_at_once(engine):
    sid = _store(engine)
    first_etag, _ = storeconfig.answer(engine, sid)
    assert storeconfig.config(engine, sid).alert_rules == []

    admin.set_alert_rules(engine, sid, [AlertRule(id="jono", kind="negative_share", threshold=50.0)])
    etag, body = storeconfig.answer(engine, sid)
    assert etag != first_etag and json.loads(body)["alert_rules"][0]["id"] == "jono"
    assert storeconfig.config(engine, sid).alert_rules[0].threshold == 50

    changed = admin.store_config(engine, sid).model_copy(update={"thank_you_s": 7.5})
    admin.update_store_config(engine, sid, changed)
    assert storeconfig.config(engine, sid).thank_you_s == 7.5
    assert json.loads(storeconfig.answer(engine, sid)[1])["thank_you_s"] == 7.5


def test_no_such_store(engine):
    assert storeconfig.config(engine, "nope") is None
    assert storeconfig.answer(engine, "nope") is None
