"""Server settings: one frozen dataclass, built from the environment by :meth:`Settings.from_env`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from hymy.protocol import MAX_BATCH_BYTES, MAX_BATCH_EVENTS

#: Development default: a SQLite file under ./.hymy (WAL mode).
DEFAULT_DATABASE_URL = "sqlite:///" + str(Path(".hymy") / "server.db")


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know; tests build one per test with a temp database.

    Units are in the names (``_s`` seconds, ``_bytes``, ``_per_min`` per minute, ``_days``).
    """

    #: SQLAlchemy URL. ``sqlite:///path.db`` or ``postgresql+psycopg://user:pw@host/db``
    #: (``?options=-csearch_path%3Dschema`` selects a schema). Env: HYMY_DATABASE_URL.
    database_url: str = DEFAULT_DATABASE_URL
    #: Run Alembic migrations to head when the app is created (default True).
    migrate: bool = True
    #: Largest request body, after decompression (default 256 KiB, the protocol's batch limit).
    max_body_bytes: int = MAX_BATCH_BYTES
    #: Most events in one batch (default 500).
    max_batch_events: int = MAX_BATCH_EVENTS
    #: Days an enrolment code stays valid (default 7).
    enrolment_valid_days: int = 7
    #: Requests per minute one device may make to the device API (0 = unlimited). Env: HYMY_DEVICE_RATE.
    device_rate_per_min: int = 120
    #: Requests per minute from one client IP address to any /api endpoint (0 = unlimited). Env: HYMY_IP_RATE.
    ip_rate_per_min: int = 600
    #: Enrolment attempts per minute from one client IP address (0 = unlimited): a guessed code costs a
    #: minute per 10 tries. Env: HYMY_ENROLL_RATE.
    enroll_rate_per_min: int = 10
    #: Raw responses and follow-ups older than this many days are pruned; rollups stay (0 = keep forever).
    #: Env: HYMY_RETENTION_DAYS.
    retention_days: int = 0
    #: Session cookie name and idle lifetime in seconds (default 12 hours).
    session_cookie: str = "hymy_session"
    session_idle_s: int = 12 * 3600
    #: Set the Secure flag on the session cookie (default True; turn off only for plain-HTTP development).
    secure_cookies: bool = True
    #: Longest date range a results query may ask, in days (default 3 years).
    max_range_days: int = 3 * 366
    #: Parts the app factory installs: the dashboard (HTML pages) and alerts + reports (post-ingest
    #: evaluation, sweeps, e-mail). One that cannot load stops the start-up (hymy.errors.MissingPackage
    #: names the package and the extra). Tests of the core pass ``()``.
    components: tuple[str, ...] = ("dashboard", "alerts")
    #: Free-form options for the components (e.g. ``smtp``, ``public_url``; see their docs).
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        """Settings from HYMY_* environment variables, then ``overrides``."""
        env = os.environ if env is None else env
        values: dict = {}
        if env.get("HYMY_DATABASE_URL"):
            values["database_url"] = env["HYMY_DATABASE_URL"]
        for key, name in (("HYMY_DEVICE_RATE", "device_rate_per_min"), ("HYMY_IP_RATE", "ip_rate_per_min"),
                          ("HYMY_ENROLL_RATE", "enroll_rate_per_min"), ("HYMY_RETENTION_DAYS", "retention_days")):
            if env.get(key):
                try:
                    values[name] = int(env[key])
                except ValueError:
                    from hymy.errors import ConfigError

                    raise ConfigError(f"{key}: {env[key]!r} is not a whole number") from None
        if env.get("HYMY_INSECURE_COOKIES") == "1":
            values["secure_cookies"] = False
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)
