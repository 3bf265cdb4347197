"""Server settings: everything the server reads from its environment, in one typed object.

:meth:`Settings.from_env` reads the ``HYMY_*`` variables of :data:`ENV` (and ``HYMY_SMTP_*`` into
:class:`SmtpSettings`); nothing else in ``server/`` reads the environment. A bad value raises
``hymy.errors.ConfigError`` naming the variable and what is valid. Tests and tools build
``Settings(...)`` directly and pass it to ``server.app.create_app``. docs/server.md lists every variable
with its type, unit and default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from hymy.errors import ConfigError
from hymy.protocol import MAX_BATCH_BYTES, MAX_BATCH_EVENTS

from .accesslog import MODES as ACCESS_LOG_MODES

#: Development default: a SQLite file under ./.hymy (WAL mode).
DEFAULT_DATABASE_URL = "sqlite:///" + str(Path(".hymy") / "server.db")
STARTTLS_MODES = ("auto", "required", "off")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how the server sends mail (alert mails and reports). ``port`` defaults to 587
    (submission), 465 with ``ssl``; ``starttls`` is ``auto``, ``required`` or ``off`` (docs/alerts.md);
    ``timeout_s``: per network operation, in seconds (default 10)."""

    host: str
    sender: str
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: str = "auto"
    ssl: bool = False
    verify: bool = True
    ca_file: str | None = None
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        problems = []
        if not self.host:
            problems.append("smtp.host: empty; give the mail server's name or address")
        if not self.sender or "@" not in self.sender:
            problems.append(f"smtp.sender: {self.sender!r} is not an address like hymy@shop.example")
        if self.starttls not in STARTTLS_MODES:
            problems.append(f"smtp.starttls: {self.starttls!r} is not valid; use auto, required or off")
        if self.port is not None and not 0 < self.port < 65536:
            problems.append(f"smtp.port: {self.port!r} is not a TCP port (1-65535)")
        if problems:
            raise ConfigError(problems)

    @property
    def effective_port(self) -> int:
        return self.port or (465 if self.ssl else 587)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """From ``HYMY_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_FROM``, ``_STARTTLS``, ``_SSL``,
        ``_VERIFY``, ``_CA_FILE``; None when ``HYMY_SMTP_HOST`` is unset (e-mail off)."""
        env = os.environ if env is None else env
        host = env.get("HYMY_SMTP_HOST", "").strip()
        if not host:
            return None
        text = {k: env.get(f"HYMY_SMTP_{k}", "").strip() for k in ("PORT", "STARTTLS", "SSL", "VERIFY")}
        port = _parse("HYMY_SMTP_PORT", text["PORT"], _port) if text["PORT"] else None
        starttls = text["STARTTLS"].lower() or "auto"
        if starttls not in STARTTLS_MODES:
            raise ConfigError(f"HYMY_SMTP_STARTTLS: {starttls!r} is not valid; use auto, required or off")
        return cls(host=host, port=port, sender=env.get("HYMY_SMTP_FROM") or f"hymy@{host}",
                   username=env.get("HYMY_SMTP_USER") or None, password=env.get("HYMY_SMTP_PASSWORD") or None,
                   starttls=starttls, ca_file=env.get("HYMY_SMTP_CA_FILE") or None,
                   ssl=_parse("HYMY_SMTP_SSL", text["SSL"], _flag) if text["SSL"] else False,
                   verify=_parse("HYMY_SMTP_VERIFY", text["VERIFY"], _flag) if text["VERIFY"] else True)


# --------------------------------------------------------------------------- parsing one value


def _whole(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError
    return value


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError
    return value


def _seconds(raw: str) -> float:
    value = float(raw)
    if not (math.isfinite(value) and value > 0):
        raise ValueError
    return value


def _flag(raw: str) -> bool:
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError


def _url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")) or len(raw) < 9 or any(c.isspace() for c in raw):
        raise ValueError
    return raw.rstrip("/")


def _text(raw: str) -> str:
    return raw


def _access(raw: str) -> str:
    low = raw.strip().lower()
    if low not in ACCESS_LOG_MODES:
        raise ValueError
    return low


#: What each parser takes, for error messages.
_VALID = {_whole: "a whole number >= 0", _positive: "a whole number >= 1", _port: "a TCP port 1-65535", _seconds: "a number of seconds > 0",
          _flag: "1/0, true/false, yes/no or on/off", _access: "quiet, all or off", _url: "an http:// or https:// address without spaces",
          _text: "text"}


def _parse(name: str, raw: str, parser: Callable[[str], object]):
    try:
        return parser(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not valid; use {_VALID[parser]}") from None


@dataclass(frozen=True, slots=True)
class Var:
    """One environment variable: its name, the ``Settings`` field it sets, how it is read, and ``invert``
    for a flag that turns its field off (``HYMY_INSECURE_COOKIES=1`` -> ``secure_cookies=False``)."""

    env: str
    field: str
    parser: Callable[[str], object]
    invert: bool = False


#: Every variable ``Settings.from_env`` reads, besides ``HYMY_SMTP_*`` (``SmtpSettings.from_env``).
ENV = (
    Var("HYMY_DATABASE_URL", "database_url", _text),
    Var("HYMY_DEVICE_RATE", "device_rate_per_min", _whole),
    Var("HYMY_IP_RATE", "ip_rate_per_min", _whole),
    Var("HYMY_ENROLL_RATE", "enroll_rate_per_min", _whole),
    Var("HYMY_RETENTION_DAYS", "retention_days", _whole),
    Var("HYMY_PRUNE_INTERVAL_S", "prune_interval_s", _seconds),
    Var("HYMY_ENROLMENT_VALID_DAYS", "enrolment_valid_days", _positive),
    Var("HYMY_SESSION_IDLE_S", "session_idle_s", _positive),
    Var("HYMY_INSECURE_COOKIES", "secure_cookies", _flag, invert=True),
    Var("HYMY_FORCE_HTTPS", "force_https", _flag),
    Var("HYMY_PUBLIC_URL", "public_url", _url),
    Var("HYMY_ALERT_SWEEP_S", "alert_sweep_s", _seconds),
    Var("HYMY_REPORT_INTERVAL_S", "report_interval_s", _seconds),
    Var("HYMY_WORKERS", "workers", _positive),
    Var("HYMY_DB_POOL", "db_pool", _positive),
    Var("HYMY_KEEPALIVE_S", "keep_alive_s", _seconds),
    Var("HYMY_ACCESS_LOG", "access_log", _access),
    Var("HYMY_MIGRATE", "migrate", _flag),
)


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know; tests build one per test with a temp database.

    Units are in the names (``_s`` seconds, ``_bytes``, ``_per_min`` per minute, ``_days``).
    """

    #: SQLAlchemy URL. ``sqlite:///path.db`` or ``postgresql+psycopg://user:pw@host/db``
    #: (``?options=-csearch_path%3Dschema`` selects a schema). Env: HYMY_DATABASE_URL.
    database_url: str = DEFAULT_DATABASE_URL
    #: Run Alembic migrations to head when the app is created (default True). ``hymy server --workers N``
    #: runs them once in its parent process and starts the workers with HYMY_MIGRATE=0. Env: HYMY_MIGRATE.
    migrate: bool = True
    #: Worker processes of ``hymy server`` on its one port (default 1; docs/server.md says how to size
    #: them). Env: HYMY_WORKERS; ``hymy server --workers N`` overrides it.
    workers: int = 1
    #: Database connections this server instance may hold, all its workers together (default 20): each
    #: worker's pool gets ``ceil(db_pool / workers)`` (:attr:`pool_per_worker`), no overflow. Keep the sum
    #: over every instance below PostgreSQL's ``max_connections``. Env: HYMY_DB_POOL.
    db_pool: int = 20
    #: Seconds an idle keep-alive connection stays open (default 75): longer than a kiosk's usual gap
    #: between requests (a press every ~30 s at a busy hour, a heartbeat every 60 s), so it does not
    #: reconnect for each, and longer than a reverse proxy's idle timeout to its upstream (nginx 60 s).
    #: Env: HYMY_KEEPALIVE_S.
    keep_alive_s: float = 75.0
    #: Which requests the access log writes (``server.accesslog``): ``quiet`` (default: all but the device
    #: API's answered batches, heartbeats and config pulls), ``all`` or ``off``. Env: HYMY_ACCESS_LOG.
    access_log: str = "quiet"
    #: Largest request body, after decompression (default 256 KiB, the protocol's batch limit).
    max_body_bytes: int = MAX_BATCH_BYTES
    #: Most events in one batch (default 500).
    max_batch_events: int = MAX_BATCH_EVENTS
    #: Days an enrolment code stays valid (default 7). Env: HYMY_ENROLMENT_VALID_DAYS.
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
    #: Seconds between prunes while ``retention_days`` is set (default 6 hours; the first runs at start).
    #: Env: HYMY_PRUNE_INTERVAL_S.
    prune_interval_s: float = 6 * 3600.0
    #: Session cookie name and idle lifetime in seconds (default 12 hours). Env: HYMY_SESSION_IDLE_S.
    session_cookie: str = "hymy_session"
    session_idle_s: int = 12 * 3600
    #: Set the Secure flag on the session cookie (default True; turn off only for plain-HTTP development).
    #: Env: HYMY_INSECURE_COOKIES=1 turns it off.
    secure_cookies: bool = True
    #: Treat every request as HTTPS (Secure cookies even when no proxy says so). Env: HYMY_FORCE_HTTPS.
    force_https: bool = False
    #: Longest date range a results query may ask, in days (default 3 years).
    max_range_days: int = 3 * 366
    #: Parts the app factory installs: the dashboard (HTML pages) and alerts + reports (post-ingest
    #: evaluation, sweeps, e-mail). One that cannot load stops the start-up (hymy.errors.MissingPackage
    #: names the package and the extra). Tests of the core pass ``()``.
    components: tuple[str, ...] = ("dashboard", "alerts")
    #: The dashboard's public address (``https://hymy.shop.example``): notices and reports link to it;
    #: None: they carry no links. Env: HYMY_PUBLIC_URL.
    public_url: str | None = None
    #: Where alert mails and reports go out; None: no e-mail. Env: HYMY_SMTP_* (see docs/alerts.md).
    smtp: SmtpSettings | None = None
    #: Seconds between alert sweeps (re-evaluation as time passes; default 5). Env: HYMY_ALERT_SWEEP_S.
    alert_sweep_s: float = 5.0
    #: Seconds between looks for due reports (default 60). Env: HYMY_REPORT_INTERVAL_S.
    report_interval_s: float = 60.0
    #: Run the periodic jobs (prune, alert sweep, reports) with the app's lifespan (default True). Tests
    #: that drive evaluation themselves pass False.
    background_jobs: bool = True

    def __post_init__(self) -> None:
        problems = []
        for name in ("max_body_bytes", "max_batch_events", "enrolment_valid_days", "session_idle_s", "max_range_days",
                     "workers", "db_pool"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                problems.append(f"{name}: {getattr(self, name)!r} is not valid; use a whole number >= 1")
        for name in ("device_rate_per_min", "ip_rate_per_min", "enroll_rate_per_min", "retention_days"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                problems.append(f"{name}: {getattr(self, name)!r} is not valid; use a whole number >= 0 (0 = off)")
        for name in ("prune_interval_s", "alert_sweep_s", "report_interval_s", "keep_alive_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not (math.isfinite(value) and value > 0):
                problems.append(f"{name}: {value!r} is not valid; use a number of seconds > 0")
        if self.public_url is not None:
            try:
                object.__setattr__(self, "public_url", _url(self.public_url))
            except (ValueError, AttributeError):
                problems.append(f"public_url: {self.public_url!r} is not valid; use {_VALID[_url]}")
        if problems:
            raise ConfigError([f"Settings.{p}" for p in problems])

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Settings from the ``HYMY_*`` environment variables (:data:`ENV`, ``HYMY_SMTP_*``), then
        ``overrides``; an empty variable counts as unset."""
        env = os.environ if env is None else env
        values: dict = {}
        for var in ENV:
            raw = env.get(var.env, "")
            if raw.strip():
                value = _parse(var.env, raw, var.parser)
                values[var.field] = (not value) if var.invert else value
        values["smtp"] = SmtpSettings.from_env(env)
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    @property
    def pool_per_worker(self) -> int:
        """Connections in each worker's pool: ``ceil(db_pool / workers)`` (at least 1)."""
        return max(1, -(-self.db_pool // self.workers))


def export_for_workers(settings: Settings) -> None:
    """Put what ``hymy server --workers N`` decided into this process's environment, which its worker
    processes inherit and read with :meth:`Settings.from_env`: the database (``--database-url`` may have
    chosen it), the worker count (each worker sizes its pool from it) and no migrations (the parent
    ran them). Everything else the workers read from the same environment as the parent."""
    os.environ["HYMY_DATABASE_URL"] = settings.database_url
    os.environ["HYMY_WORKERS"] = str(settings.workers)
    os.environ["HYMY_MIGRATE"] = "0"
