"""The server's tables (SQLAlchemy Core). Alembic migrations in ``server/migrations`` create them.

Times are RFC 3339 UTC text with milliseconds (``hymy.timestamps.format_ts``): fixed width, so text
order is time order on SQLite and PostgreSQL alike. Local dates are ``YYYY-MM-DD`` text in the store's
IANA zone. No table that holds responses has a column for an IP address or any person.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

TS = String(30)
ID = String(64)

regions = Table(
    "regions", metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", TS, nullable=False),
)

stores = Table(
    "stores", metadata,
    Column("id", ID, primary_key=True),
    Column("region_id", ID, ForeignKey("regions.id"), nullable=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    # hymy.protocol.StoreConfig as JSON, without alert_rules (those live in alert_rules)
    Column("config_json", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)

alert_rules = Table(
    "alert_rules", metadata,
    Column("id", String(265), primary_key=True),  # "<store id>:<rule id>" (64 + 1 + 200 characters)
    Column("store_id", ID, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("rule_json", Text, nullable=False),  # hymy.protocol.AlertRule as JSON
)

devices = Table(
    "devices", metadata,
    Column("id", ID, primary_key=True),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False, index=True),
    Column("name", String(200)),
    Column("token_hash", String(64), unique=True),  # SHA-256 hex of the bearer token; NULL until enrolled
    Column("created_at", TS, nullable=False),
    Column("enrolled_at", TS),
    Column("revoked_at", TS),
    # fleet state from the last heartbeat
    Column("last_seen_at", TS),
    Column("app_version", String(200)),
    Column("boot_id", String(200)),
    Column("uptime_ms", BigInteger),
    Column("device_time", TS),
    Column("clock_synced", Boolean),
    Column("pending", Integer),
    Column("oldest_pending_s", Float),
    Column("quarantined", Integer),
    Column("last_error", Text),
    Column("disk_free_mb", Float),
    Column("cpu_temp_c", Float),
    Column("config_etag", String(200)),
    Column("store_recoveries", Integer),  # damaged local stores the device moved aside (migration 0006)
)

enrolment_codes = Table(
    "enrolment_codes", metadata,
    Column("code_hash", String(64), primary_key=True),  # SHA-256 hex of the normalised code
    Column("device_id", ID, ForeignKey("devices.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("used_at", TS),
)

responses = Table(
    "responses", metadata,
    Column("id", String(36), primary_key=True),
    Column("store_id", ID, nullable=False),
    Column("device_id", ID, nullable=False),
    Column("question_id", String(200), nullable=False),
    Column("mood", Integer, nullable=False),
    Column("scale", Integer, nullable=False),
    Column("source", String(16), nullable=False),
    Column("pressed_at", TS, nullable=False),  # best known UTC time (corrected by device or server)
    Column("local_date", String(10), nullable=False),
    Column("hour_utc", TS, nullable=False),  # start of its hour bucket, in UTC (server.localtime)
    Column("clock_synced", Boolean, nullable=False),
    Column("boot_id", String(200), nullable=False),
    Column("uptime_ms", BigInteger, nullable=False),
    Column("flags", String(64), nullable=False),  # comma-separated sorted flags, "" when counted
    Column("app_version", String(200), nullable=False),
    Column("clock_corrected", Boolean, nullable=False),  # corrected on the device before sending
    Column("device_pressed_at", TS),  # the device's uncorrected clock, for audit
    Column("server_corrected_at", TS),  # when the server corrected pressed_at from a heartbeat
    Column("original_pressed_at", TS),  # pressed_at before the server's correction, for audit
    Column("voided", Boolean, nullable=False),  # a `void` follow-up moved it to filtered (maintenance)
    Column("received_at", TS, nullable=False),
    # SHA-256 of the normalised event in rows stored before migration 0004; "" since: a resend is told
    # from a conflict by comparing columns (server.event_content.same_content)
    Column("content_hash", String(64), nullable=False),
)
Index("responses_store_pressed", responses.c.store_id, responses.c.pressed_at)
Index("responses_device_boot", responses.c.device_id, responses.c.boot_id, responses.c.clock_synced)
Index("responses_received", responses.c.received_at)

followups = Table(
    "followups", metadata,
    Column("id", String(36), primary_key=True),
    Column("store_id", ID, nullable=False),
    Column("device_id", ID, nullable=False),
    Column("response_id", String(36), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("value", String(300)),  # NULL once a comment is deleted
    Column("pressed_at", TS, nullable=False),
    Column("local_date", String(10), nullable=False),
    Column("hour_utc", TS, nullable=False),
    Column("received_at", TS, nullable=False),
    Column("deleted_at", TS),
    Column("content_hash", String(64), nullable=False),
    # the device clock at the follow-up (NULL in rows stored before migration 0004): a heartbeat corrects
    # it like its response, and a resend is compared column by column like a response
    Column("clock_synced", Boolean),
    Column("boot_id", String(200)),
    Column("uptime_ms", BigInteger),
    Column("clock_corrected", Boolean),
    Column("device_pressed_at", TS),
    Column("server_corrected_at", TS),
    Column("original_pressed_at", TS),
)
Index("followups_store_pressed", followups.c.store_id, followups.c.pressed_at)
Index("followups_device_boot", followups.c.device_id, followups.c.boot_id, followups.c.clock_synced)

# Every event id ever stored and its type (``response`` | ``followup``). The primary key makes one id one
# event across both tables, also when two server instances store the same id at once (ingest claims the
# id here first). Pruning deletes the raw event and keeps its row here, so a device re-sending a pruned
# event gets ``duplicate`` and nothing is counted twice.
event_ids = Table(
    "event_ids", metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(16), nullable=False),
    sqlite_with_rowid=False,
)

# Counted and filtered presses per store x local date x local hour x scale x mood, kept in the same
# transaction as the insert, so a results query reads O(days) rows.
rollup_hourly = Table(
    "rollup_hourly", metadata,
    Column("store_id", ID, primary_key=True),
    Column("local_date", String(10), primary_key=True),
    Column("hour_utc", TS, primary_key=True),
    Column("scale", Integer, primary_key=True),
    Column("mood", Integer, primary_key=True),
    Column("counted", Integer, nullable=False),
    Column("filtered", Integer, nullable=False),
)

# The same counts per store x local date x scale x mood (no hour): region and long-range queries read
# O(stores x days) rows. Kept in the same transaction as rollup_hourly, from the same deltas.
rollup_daily = Table(
    "rollup_daily", metadata,
    Column("store_id", ID, primary_key=True),
    Column("local_date", String(10), primary_key=True),
    Column("scale", Integer, primary_key=True),
    Column("mood", Integer, primary_key=True),
    Column("counted", Integer, nullable=False),
    Column("filtered", Integer, nullable=False),
)

# The same counts per region x local date (the sum of its stores' rollup_daily): a region's results
# read O(days) rows whatever its size. Rebuilt for both regions when a store moves (server.rollups).
rollup_region_daily = Table(
    "rollup_region_daily", metadata,
    Column("region_id", ID, primary_key=True),
    Column("local_date", String(10), primary_key=True),
    Column("scale", Integer, primary_key=True),
    Column("mood", Integer, primary_key=True),
    Column("counted", Integer, nullable=False),
    Column("filtered", Integer, nullable=False),
)

# Reason / praise choices per store x local date x local hour (comments are not counted here).
rollup_followups = Table(
    "rollup_followups", metadata,
    Column("store_id", ID, primary_key=True),
    Column("local_date", String(10), primary_key=True),
    Column("hour_utc", TS, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("value", String(300), primary_key=True),
    Column("n", Integer, nullable=False),
)

# One number per store that grows whenever a rollup of one of its settled local dates changes (a late-synced
# press, a void, a clock correction: server.rollups.bump), so a process may remember what it read of those
# dates until then (server.results.settled). No row: never changed since the store began (0).
rollup_generations = Table(
    "rollup_generations", metadata,
    Column("store_id", ID, primary_key=True),
    Column("generation", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(200), nullable=False, unique=True),
    Column("password_hash", String(300), nullable=False),  # Argon2id
    Column("role", String(32), nullable=False),  # admin | regional_manager | store_manager | technician
    Column("display_name", String(200)),
    Column("email", String(300)),
    Column("created_at", TS, nullable=False),
    Column("disabled_at", TS),
)

user_stores = Table(
    "user_stores", metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ID, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
)

user_regions = Table(
    "user_regions", metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ID, ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)

sessions = Table(
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 hex of the random session id
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", TS, nullable=False),
    Column("last_seen_at", TS, nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200)),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS),
)

# Team screen links (server/dashboard/team_links.py): a per-store, read-only display link for a staff-room
# screen, opened without sign-in by a random 256-bit token of which only the SHA-256 is stored (as
# ``api_tokens``). Revoking sets ``revoked_at``; the next request with the token answers 410.
team_links = Table(
    "team_links", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", ID, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 hex of the link's token
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS),
    Column("last_used_at", TS),  # written at most once a minute (server.dashboard.team_links.TOUCH_EVERY_S)
)

# --- coordination of the processes that share this database (several workers, several instances)

# A lease per periodic job ("job:alert-sweep") and a presence per live process ("process:<holder>"):
# ``holder`` names the process (host:pid:random), ``expires_at`` is Unix time in seconds. Taken and
# renewed with one atomic upsert (server.leases).
leases = Table(
    "leases", metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", Float, nullable=False),
    sqlite_with_rowid=False,
)

# Each process's count of requests per limited key in one wall-clock minute (``minute`` = Unix time //
# 60): the per-device and per-address limits' shared view (server.limitsync). ``key`` is a hash, never
# the address itself; rows of past minutes are deleted.
rate_counts = Table(
    "rate_counts", metadata,
    Column("minute", BigInteger, primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("holder", String(200), primary_key=True),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# One row per attempt of a rare, exactly limited kind (enrolment, sign-in) inside its window: ``key`` is a
# hash of what is limited (an address, a user name), ``at`` Unix time in seconds (server.attempts).
attempts = Table(
    "attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index("attempts_key_at", "key", "at"),
)
