"""schemathesis against a real server (Uvicorn on loopback), the way an independent tester runs it: the
``schemathesis run`` command over EVERY operation of /openapi.json (device API, manager API, alerts
API), every phase (examples, coverage, fuzzing) and every check, with a device token and an admin API
token and real store, region, alert and comment ids; on SQLite and on PostgreSQL. No 5xx, no status
the document does not list, no answer that breaks its schema, no schema-valid input refused and no
invalid input accepted (with the exceptions below, each for a reason), and the Allow of every 405 right.
"""

from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from hymy.protocol import AlertRule
from server import admin
from server.alerts.tables import alert_episodes
from server.testing import serve
from tests import procs

from .conftest import World, followup, press, with_alerts

#: Examples per operation and phase: keeps a SQLite run near a minute on a shared 2-core machine.
EXAMPLES = 15
SEED = 20261123

#: Operations whose refusals depend on more than one value, which a JSON Schema cannot say: the range
#: ``from``..``to`` must be in order and at most 3 years long; a store's alert rule ids must be unique.
#: For them a 422 to schema-valid input is the documented answer, not a defect.
CROSS_FIELD = ["/api/v1/stores/{store_id}/daily", "/api/v1/stores/{store_id}/followups",
               "/api/v1/regions/{region_id}/daily", "/api/v1/regions/{region_id}/followups",
               "/api/v1/export/responses.csv", "/api/v1/export/daily.csv", "/api/v1/stores/{store_id}/alert-rules"]


def _config(device_token: str, admin_token: str, ids: dict[str, list]) -> str:
    cross = "|".join(p.replace("{", r"\{").replace("}", r"\}") for p in CROSS_FIELD)
    lines = [
        f"seed = {SEED}",
        "[cache]", "enabled = false",  # each run from its seed alone, nothing kept between runs
        "[auth.openapi.DeviceToken]", f"bearer = {json.dumps(device_token)}",
        "[auth.openapi.ApiToken]", f"bearer = {json.dumps(admin_token)}",
        "[generation]", f"max-examples = {EXAMPLES}",
        # NUL characters are refused on purpose (PostgreSQL text cannot hold them), with a 422 naming the
        # field: test_nul_in_any_json_body_is_refused_naming_the_field covers every operation that has a body
        "allow-x00 = false",
        "[checks]", "enabled = true",  # every check (what `--checks all` does, but operations may refine it)
        # 413 is how the server refuses more than 500 events: a refusal, and documented
        "[checks.negative_data_rejection]",
        'expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]',
    ]
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    # real ids most of the time, so the requests reach the logic behind the 404s; unknown ones otherwise
    lines.append("[parameters]")
    for key, name in (("path.store_id", "stores"), ("query.store", "stores"), ("path.region_id", "regions"),
                      ("path.alert_id", "alerts"), ("path.followup_id", "comments")):
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.8 }}')
    lines += [
        "[[operations]]", f"include-path-regex = {json.dumps(f'^({cross})$')}",
        "[operations.checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", 401, 403, 404, 409, 422]',
        # a batch is answered event by event: invalid events come back `rejected` in a 200 (docs/protocol.md)
        "[[operations]]", 'include-path = "/api/v1/responses"', 'include-method = "POST"',
        "[operations.checks.negative_data_rejection]", "enabled = false",
    ]
    return "\n".join(lines) + "\n"


def _real_ids(app, http: httpx.Client) -> tuple[World, dict[str, list]]:
    """Stores, regions, users and devices (World), one fired alert and one customer comment."""
    engine = app.state.engine
    world = World(engine, http)
    admin.set_alert_rules(engine, "s1", [AlertRule(id="unhappy", kind="negative_share", min_count=1, threshold=50)])
    sad = press(mood=1, at=datetime.now(UTC) - timedelta(minutes=1))
    note = followup(sad["id"], kind="comment", value="the queue was long")
    r = http.post("/api/v1/responses", headers=world.device("s1"), json={"events": [sad, note]})
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted"], r.text
    app.state.alerts.evaluate_store("s1")
    with engine.connect() as conn:
        alert_ids = list(conn.execute(select(alert_episodes.c.id)).scalars())
    assert alert_ids, "the rule should have fired"
    return world, {"stores": ["s1", "s2", "s3"], "regions": ["north", "south"], "alerts": alert_ids,
                   "comments": [note["id"]]}


@pytest.mark.slow
def test_schemathesis_every_operation_with_device_and_admin_tokens_and_real_ids(settings, tmp_path, monkeypatch):
    # A webhook URL the fuzzer invents must never leave this machine: every webhook goes to a proxy on a
    # closed loopback port and fails at once (one attempt). The schemathesis process gets no proxy.
    clean_env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    settings = with_alerts(settings).with_(enroll_rate_per_min=0)
    with serve(settings) as running, httpx.Client(base_url=running.base_url, trust_env=False) as http:
        app = running.app
        app.state.alerts.outbox.webhook_attempts = 1
        world, ids = _real_ids(app, http)
        config = tmp_path / "schemathesis.toml"
        config.write_text(_config(world.tokens["s1"], world.api_tokens["admin"], ids))
        junit = tmp_path / "junit.xml"
        run = procs.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
             f"{running.base_url}/openapi.json", "--workers", "1",
             "--phases", "examples,coverage,fuzzing", "--report", "junit", "--report-junit-path", str(junit)],
            capture_output=True, text=True, env=clean_env, cwd=tmp_path, timeout=600)
        operations = {f"{method.upper()} {path}" for path, item in http.get("/openapi.json").json()["paths"].items()
                      for method in item}
    output = run.stdout[-20000:] + run.stderr[-5000:]
    assert run.returncode == 0, output
    tested = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert operations <= tested, f"not tested: {sorted(operations - tested)}\n{output}"
    assert len(operations) >= 30, sorted(operations)


def test_nul_is_refused_never_a_5xx(client, world):
    h = world.device("s1")
    r = client.post("/api/v1/heartbeat", headers=h, json={"app_version": "1", "boot_id": "\x00", "uptime_ms": 1,
                                                          "device_time": "2026-11-23T10:00:00Z", "clock_synced": True})
    assert r.status_code == 422
    r = client.post("/api/v1/responses", headers=h, json={"events": [press(boot_id="a\x00b"), press()]})
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "accepted"]
    assert "NUL" in r.json()["results"][0]["reason"]
    assert client.get("/api/v1/fleet", params={"store": "s\x00"}, headers=world.user("admin")).status_code == 422
    assert client.post("/api/v1/enroll", json={"code": "abc\x00def"}).status_code == 422
