"""The alerts API against its own OpenAPI document (schemathesis): no 5xx, answers match the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from hymy.timestamps import utcnow
from server import auth
from server.settings import Settings
from server.testing import serve
from tests.alerts.helpers import add_store, press, response


@pytest.mark.slow
def test_alerts_api_fuzzed_from_openapi_has_no_server_errors(tmp_path):
    cfg = Settings(database_url=f"sqlite:///{tmp_path}/s.db", secure_cookies=False, device_rate_per_min=0,
                   ip_rate_per_min=0, smtp=None)
    with serve(cfg) as running:
        engine = running.app.state.engine
        sid, dev = add_store(engine, store_id="s1")
        press(engine, sid, dev, *[response(1, utcnow()) for _ in range(4)])
        running.app.state.alerts.evaluate_store(sid)  # one real alert (id 1) to find
        token = auth.create_api_token(engine, auth.create_user(engine, "boss", "long enough password", "admin"))
        schema = schemathesis.openapi.from_url(running.base_url + "/openapi.json").include(path_regex="alert")
        failures: list = []
        ops = [op.ok() for op in schema.get_all_operations()]
        assert len(ops) == 9
        for op in ops:
            check_operation(op, running.base_url, token, failures)
        assert failures == []


def check_operation(op, base_url: str, token: str, failures: list) -> None:
    """Up to 25 generated requests for ``op``; 5xx answers are collected, others must match the schema."""

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(op.as_strategy())
    def check(case):
        if "alert_id" in case.path_parameters and case.path_parameters["alert_id"] % 2:
            case.path_parameters["alert_id"] = 1  # half the cases hit the real alert
        if "store_id" in case.path_parameters and len(case.path_parameters["store_id"]) % 2:
            case.path_parameters["store_id"] = "s1"  # and the real store
        resp = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
        if resp.status_code >= 500:
            failures.append((op.label, resp.status_code, resp.text[:200]))
        else:
            case.validate_response(resp, checks=[schemathesis.checks.response_schema_conformance])

    check()
