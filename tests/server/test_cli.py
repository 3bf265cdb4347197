"""hymy server / admin / export commands: help on every command, and a full admin round trip."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hymy.cli import cli
from server import migrate
from server.db import make_engine
from tests import procs

ADMIN = ["add-region", "add-store", "add-device", "new-code", "revoke-device", "add-user", "add-token", "list",
         "delete-comment", "prune", "move-store"]


@pytest.mark.parametrize("args", [["server"], ["admin"], ["export"]] + [["admin", c] for c in ADMIN])
def test_cli_every_server_command_has_help(args):
    r = CliRunner().invoke(cli, [*args, "--help"])
    assert r.exit_code == 0, r.output
    assert "Usage:" in r.output and len(r.output.splitlines()) > 3


def test_cli_admin_round_trip(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HYMY_DATABASE_URL", url)
    run = CliRunner().invoke
    assert run(cli, ["admin", "add-region", "North"]).output.strip() == "north"
    assert run(cli, ["admin", "add-store", "Main Street", "--region", "north"]).output.strip() == "main-street"
    out = run(cli, ["admin", "add-device", "--store", "main-street", "--name", "Exit"]).output
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert lines["device"].startswith("dev-") and len(lines["code"]) == 14
    r = run(cli, ["admin", "add-user", "anna", "--role", "store_manager", "--store", "main-street",
                  "--password", "pw-pw-pw"])
    assert r.exit_code == 0 and "store_manager" in r.output
    assert run(cli, ["admin", "add-token", "anna"]).output.startswith("hymy_")
    listing = json.loads(run(cli, ["admin", "list", "--json"]).output)
    assert [s["id"] for s in listing["stores"]] == ["main-street"]
    assert run(cli, ["admin", "revoke-device", lines["device"]]).exit_code == 0
    assert run(cli, ["admin", "add-region", "South"]).output.strip() == "south"
    moved = run(cli, ["admin", "move-store", "main-street", "--region", "south"])
    assert moved.exit_code == 0 and moved.output.strip() == "store main-street: region north -> south"
    nowhere = run(cli, ["admin", "move-store", "main-street", "--region", "west"])
    assert nowhere.exit_code != 0 and "region 'west' does not exist" in str(nowhere.exception)
    bad = run(cli, ["admin", "add-device", "--store", "nowhere"])
    assert bad.exit_code != 0 and "nowhere" in str(bad.exception)
    r = run(cli, ["export", "--store", "main-street", "--from", "2026-11-01", "--to", "2026-11-03"])
    assert r.output.splitlines()[0].startswith("date,n,mood_1") and len(r.output.splitlines()) == 4


def test_migrations_rerun_is_noop_and_at_head(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.heads()
    engine.dispose()


@pytest.mark.parametrize("args", [["export", "--store", "s1"], ["admin", "list"], ["report", "s1"]])
def test_cli_reading_commands_never_create_a_database(tmp_path, monkeypatch, args):
    """Like ``hymy status`` on a device: a command that only reads says there is no database (naming
    the file and how to point at the right one) instead of creating an empty one where it was run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYMY_DATABASE_URL", raising=False)
    r = CliRunner().invoke(cli, args)
    assert list(tmp_path.iterdir()) == [], "nothing created (no .hymy/server.db)"
    assert r.exit_code != 0 and "server.db: no server database there" in str(r.exception)
    assert "HYMY_DATABASE_URL" in str(r.exception)


def test_new_code_for_a_revoked_device_is_refused_and_writes_nothing(tmp_path):
    """``hymy admin new-code`` of a revoked device: exit 2 with a message saying to add a new device, no
    code stored (it could never enrol), no traceback."""
    import sys

    from sqlalchemy import func, select

    from server import admin
    from server import tables as t

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    admin.create_store(engine, "Main", store_id="main")
    device = admin.create_device(engine, "main").device_id
    admin.revoke_device(engine, device)
    count = select(func.count()).select_from(t.enrolment_codes)
    with engine.connect() as conn:
        before = conn.execute(count).scalar_one()
    r = procs.run([sys.executable, "-m", "hymy", "admin", "new-code", device, "--database-url", url],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "revoked" in r.stderr and "add a new device instead (hymy admin add-device --store main)" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "code" not in r.stdout
    with engine.connect() as conn:
        assert conn.execute(count).scalar_one() == before
    engine.dispose()


@pytest.mark.parametrize("text, words", [("[" * 1000 + "]" * 1000, "JSON nested more than 900 levels deep"),
                                          ('{"question": ', "invalid JSON"), ("[1, 2]", "must be a JSON object")])
def test_add_store_config_file_that_cannot_be_read_is_named(tmp_path, text, words):
    from hymy.errors import HymyError

    path = tmp_path / "store.json"
    path.write_text(text)
    r = CliRunner().invoke(cli, ["admin", "add-store", "Main", "--config", str(path),
                                 "--database-url", f"sqlite:///{tmp_path / 'cli.db'}"])
    assert isinstance(r.exception, HymyError), r.exception  # hymy's main() prints it as one line, exit 2
    assert str(r.exception).startswith(f"{path}: ") and words in str(r.exception)


def test_hymy_server_with_a_bad_setting_stops_naming_the_variable(tmp_path):
    """A bad environment variable stops ``hymy server`` before the app is built: a ConfigError (which the
    ``hymy`` command prints as one line, exit 2) naming the variable and what is valid."""
    from hymy.errors import ConfigError

    env = {"HYMY_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "HYMY_ALERT_SWEEP_S": "soon"}
    r = CliRunner(env=env).invoke(cli, ["server", "--port", "0"])
    assert isinstance(r.exception, ConfigError)
    assert str(r.exception) == "HYMY_ALERT_SWEEP_S: 'soon' is not valid; use a number of seconds > 0"
    assert list(tmp_path.iterdir()) == []  # nothing built, no database made
