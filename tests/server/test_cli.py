"""hymy server / admin / export commands: help on every command, and a full admin round trip."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hymy.cli import cli
from server import migrate
from server.db import make_engine

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
