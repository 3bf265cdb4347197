"""Every date parameter of every endpoint (JSON API, dashboard pages, ``hymy export``, ``hymy report``):
a date outside 1900-01-01..2100-12-31 is a 422 (a usage error on the command line) naming the parameter,
never a 500; the first and last dates answer."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hymy.cli import cli
from server import admin
from server.localtime import DATE_PATTERN

EDGES = {"9999-12-31": "outside 1900-01-01..2100-12-31", "0001-01-01": "outside 1900-01-01..2100-12-31",
         "0000-00-00": "not a date of the calendar", "2026-11-23T10:00": "not a date like 2026-11-23"}
GOOD = {"from": "2026-11-01", "to": "2026-11-02", "date": "2026-11-01", "store": "s1"}


def date_operations(client) -> list[tuple[str, list[str]]]:
    """(path with real ids, names of its date parameters) of every operation that takes a date."""
    out = []
    for path, item in client.get("/openapi.json").json()["paths"].items():
        for op in item.values():
            names = [p["name"] for p in op.get("parameters", []) if p["schema"].get("pattern") == DATE_PATTERN]
            if names:
                out.append((path.replace("{store_id}", "s1").replace("{region_id}", "north"), names))
    assert len(out) == 7, out  # store daily/hourly/followups, region daily/followups, two CSV exports
    return out


@pytest.mark.parametrize("value", sorted(EDGES))
def test_every_date_parameter_out_of_range_is_a_422_naming_it(client, world, value):
    for path, names in date_operations(client):
        query = {k: v for k, v in GOOD.items() if k in names or k == "store"}
        for name in names:
            r = client.get(path, params={**query, name: value}, headers=world.user("admin"))
            assert r.status_code == 422, (path, name, r.text)
            err = r.json()["detail"][0]
            assert err["loc"] == ["query", name] and err["msg"].startswith(f"{name}: "), (path, r.text)
            assert EDGES[value] in err["msg"], r.text


@pytest.mark.parametrize("day", ["1900-01-01", "2100-12-31"])
def test_first_and_last_dates_answer_in_every_zone_of_the_world(client, world, engine, day):
    admin.create_store(engine, "Kiritimati", store_id="kiri", timezone="Pacific/Kiritimati", region_id="south")
    admin.create_store(engine, "Pago Pago", store_id="pago", timezone="Pacific/Pago_Pago", region_id="south")
    for store in ("s1", "kiri", "pago"):
        r = client.get(f"/api/v1/stores/{store}/hourly", params={"date": day}, headers=world.user("admin"))
        assert r.status_code == 200 and r.json()["total"]["n"] == 0, r.text
        r = client.get("/api/v1/export/responses.csv", params={"store": store, "from": day, "to": day},
                       headers=world.user("admin"))
        assert r.status_code == 200, r.text
    r = client.get("/api/v1/regions/south/daily", params={"from": day, "to": day}, headers=world.user("admin"))
    assert r.status_code == 200 and r.json()["days"][0]["date"] == day


def test_hourly_names_its_own_parameter(client, world):
    r = client.get("/api/v1/stores/s1/hourly", params={"date": "9999-12-31"}, headers=world.user("admin"))
    assert r.json()["detail"][0]["msg"] == "date: 9999-12-31 is outside 1900-01-01..2100-12-31, the dates Hymy " \
                                           "answers about"


@pytest.mark.parametrize("args, option", [
    (["export", "--store", "s1", "--from", "0001-01-01", "--to", "2026-11-01", "--kind", "responses"], "--from"),
    (["export", "--store", "s1", "--to", "9999-12-31"], "--to"),
    (["report", "s1", "--date", "9999-12-31"], "--date"),
    (["report", "s1", "--date", "2026-02-30"], "--date")])
def test_command_line_dates_out_of_range_are_usage_errors_naming_the_option(tmp_path, args, option):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner().invoke
    assert run(cli, ["admin", "add-store", "S1", "--id", "s1", "--database-url", url]).exit_code == 0
    r = run(cli, [*args, "--database-url", url])
    assert r.exit_code == 2 and option in r.output, r.output
    assert "1900-01-01..2100-12-31" in r.output or "not a date of the calendar" in r.output, r.output
    assert "Traceback" not in r.output and not isinstance(r.exception, (OverflowError, ValueError)), r.exception
