"""The ``hymy`` command: it lists every command, and every command and subcommand answers --help.

Iterates ``hymy.cli.COMMANDS``, so commands added later are covered without touching this file.
"""

from __future__ import annotations

import sys

import click
import pytest
from click.testing import CliRunner

from hymy.cli import COMMANDS, cli
from tests import procs


def _walk(name: str, command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    paths = [path]
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=name)
        for sub in command.list_commands(ctx):
            paths += _walk(sub, command.get_command(ctx, sub), (*path, sub))
    return paths


def all_command_paths() -> list[tuple[str, ...]]:
    ctx = click.Context(cli, info_name="hymy")
    paths: list[tuple[str, ...]] = []
    for name in sorted(COMMANDS):
        paths += _walk(name, cli.get_command(ctx, name), (name,))
    return paths


def test_hymy_help_lists_every_command():
    done = procs.run([sys.executable, "-m", "hymy", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("Commands:", 1)[1]
    for name in COMMANDS:
        assert f"\n  {name} " in listed, f"hymy --help does not list {name}"


def test_every_registered_command_imports():
    ctx = click.Context(cli, info_name="hymy")
    for name, target in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command), f"{name} -> {target} is not a click command"


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p))
def test_every_command_answers_help(path):
    result = CliRunner().invoke(cli, [*path, "--help"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and "--help" in result.output
    # a description, not an empty help page
    assert len(result.output.split("\n\n", 1)[1].strip()) > 10


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["frobnicate"])
    assert result.exit_code == 2 and "No such command" in result.output


def test_version():
    from hymy import __version__

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
