"""Alembic environment: always run from :func:`server.migrate.upgrade` with a live connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import server.alerts.tables  # noqa: F401  (the alert tables join the metadata for autogenerate)
from server.tables import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=conn.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # `alembic` command line, with sqlalchemy.url in the config
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
