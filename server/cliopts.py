"""What every server command shares (``hymy server``, ``hymy admin``, ``hymy export``, ``hymy report``):
the ``--database-url`` option, settings and a migrated engine from it, and dates given as options.

Imports nothing heavy at module level, so ``hymy --help`` stays fast; never imports the app.
"""

from __future__ import annotations

import os
from datetime import date

import click

DB_HELP = "Database URL (default: HYMY_DATABASE_URL, else a SQLite file ./.hymy/server.db)."

db_option = click.option("--database-url", default=None, help=DB_HELP)


def settings_for(database_url: str | None):
    """``server.settings.Settings`` from the environment, with ``--database-url`` when given."""
    from server.settings import Settings

    return Settings.from_env(**({"database_url": database_url} if database_url else {}))


def engine_for(database_url: str | None, *, existing: bool = False):
    """An engine with the schema migrated to head. ``existing`` (the commands that only read): a
    SQLite database file that does not exist is an error, never created (nor its folder)."""
    from server.db import make_engine
    from server.migrate import upgrade

    url = settings_for(database_url).database_url
    if existing:
        _must_exist(url)
    engine = make_engine(url)
    upgrade(engine)
    return engine


def _must_exist(url: str) -> None:
    from sqlalchemy.engine import make_url

    from hymy.errors import ConfigError

    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:") and not os.path.isfile(u.database):
        raise ConfigError("no server database there, so nothing to read; point HYMY_DATABASE_URL or "
                          "--database-url at the server's database", u.database)


def cli_day(text: str, option: str) -> date:
    """The local date of ``option`` (``server.localtime.parse_day``); a usage error naming it otherwise."""
    from server.localtime import parse_day

    try:
        return parse_day(text, option)
    except ValueError as exc:
        raise click.BadParameter(str(exc).removeprefix(f"{option}: "), param_hint=option) from None
