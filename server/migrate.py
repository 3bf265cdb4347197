"""Run the Alembic migrations to head, on SQLite or PostgreSQL, safely from several processes at once."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

HERE = Path(__file__).parent / "migrations"
#: pg_advisory_lock key: only one server instance migrates at a time; the others wait, then see head.
_LOCK_KEY = 0x68796D79


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (default: every head). Re-running is a no-op."""
    cfg = alembic_config()
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                conn.commit()


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (tests of a migration start from the revision before it)."""
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def current(engine: Engine) -> set[str]:
    """The revisions the database is at (empty before the first migration)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())
