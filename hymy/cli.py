"""The ``hymy`` command: one entry point, each command a few lines over a package's Python API.

Commands live in the package that owns them (``kiosk/cli.py``, ``sync/cli.py``, ``deploy/cli.py``...).
``COMMANDS`` names each one's module as a string, a registry rather than an import (the core sits below
every package, docs/architecture.md), and a module is imported only when its command runs or ``--help``
lists it, so ``hymy status`` never loads Kivy or FastAPI.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from hymy import __version__
from hymy.errors import HymyError
from hymy.extras import missing_package

# command name -> "module:attribute" of a click command. Keep sorted by name.
COMMANDS: dict[str, str] = {
    "admin": "server.cli:admin",
    "demo": "deploy.cli:demo",
    "export": "server.cli:export",
    "firstboot": "deploy.cli:firstboot",
    "hwtest": "kiosk.cli:hwtest",
    "kiosk": "kiosk.cli:kiosk",
    "report": "server.reports.cli:report",
    "server": "server.cli:server",
    "simulate": "deploy.cli:simulate",
    "status": "kiosk.cli:status",
    "sync": "sync.cli:sync",
    "update": "deploy.cli:update",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hymy")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Hymy: in-store smiley feedback. Kiosk, sync agent, central server and tools.

    The device config comes from --config or HYMY_CONFIG (default /etc/hymy/kiosk.toml);
    the server's database from HYMY_DATABASE_URL (default: a SQLite file).
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def config_option(func):
    """The ``--config PATH`` option shared by every device command (falls back to HYMY_CONFIG)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        envvar="HYMY_CONFIG",
        show_envvar=True,
        help="Device config file (TOML). Default: /etc/hymy/kiosk.toml.",
    )(func)


def _command_name() -> str:
    """``hymy <command>`` as typed (the first word of the command line that names a command)."""
    name = next((arg for arg in sys.argv[1:] if arg in COMMANDS), None)
    return f"`hymy {name}`" if name else "hymy"


def main() -> None:
    """Console entry point: a HymyError, or a package missing from this install (the message names the
    extra to install), becomes one clear line and exit code 2, never a traceback."""
    try:
        rv = cli.main(prog_name="hymy", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HymyError as exc:
        click.echo(f"hymy: {exc}", err=True)
        sys.exit(2)
    except ModuleNotFoundError as exc:  # this install lacks the extra the command needs
        logging.getLogger(__name__).debug("import failed", exc_info=True)
        click.echo(f"hymy: {missing_package(exc, _command_name())}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


__all__ = ["cli", "main", "config_option", "COMMANDS"]
