"""The alert and report tables (SQLAlchemy Core). Created by the Alembic migration
``server/migrations/versions/*_alerts_and_reports.py``; ``metadata.create_all`` is only for tools.

Times are RFC 3339 UTC text with milliseconds (``hymy.timestamps.format_ts``): fixed width, so text
order is time order on SQLite and PostgreSQL alike.

Concurrency between several server instances rests on two unique constraints:

- ``alert_episodes_one_open``: at most one episode per (store, rule) whose condition still holds
  (``cleared_at IS NULL``). Two instances evaluating the same batch race to insert it; the loser
  gets an IntegrityError and stays silent, so an episode is announced once.
- ``report_sends`` primary key (store, period, local date): an instance claims a report by
  inserting the row before sending it; only the one whose insert succeeds sends.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    text,
    true,
)

# The server's MetaData, so Alembic's autogenerate (server/migrations/env.py) knows these tables too.
from server.tables import metadata

TS = String(30)

alert_episodes = Table(
    "alert_episodes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", String(64), nullable=False),
    Column("rule_id", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("rule_json", Text, nullable=False),  # the rule as it was when the episode fired
    Column("fired_at", TS, nullable=False),
    Column("n", Integer, nullable=False),
    Column("value", Float),
    Column("summary", Text, nullable=False),
    Column("cleared_at", TS),  # the condition stopped holding: closed by itself
    Column("clear_summary", Text),
    Column("acknowledged_at", TS),  # a manager took it: closed for people, still one episode
    Column("acknowledged_by", String(200)),
)
Index("alert_episodes_store_fired", alert_episodes.c.store_id, alert_episodes.c.fired_at)
Index(
    "alert_episodes_one_open", alert_episodes.c.store_id, alert_episodes.c.rule_id, unique=True,
    sqlite_where=text("cleared_at IS NULL"), postgresql_where=text("cleared_at IS NULL"),
)

alert_comments = Table(
    "alert_comments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("episode_id", Integer, ForeignKey("alert_episodes.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("author", String(200)),
    Column("body", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)

alert_channels = Table(
    "alert_channels", metadata,
    Column("store_id", String(64), primary_key=True),
    Column("webhook_url", Text),
    Column("webhook_secret", Text),
    Column("email_to", Text),  # comma-separated addresses
    Column("daily_report", Boolean, nullable=False, server_default=true()),
    Column("weekly_report", Boolean, nullable=False, server_default=false()),
    Column("updated_at", TS),
)

alert_deliveries = Table(
    "alert_deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("episode_id", Integer, ForeignKey("alert_episodes.id", ondelete="CASCADE"), index=True),
    Column("event", String(40), nullable=False),
    Column("channel", String(16), nullable=False),  # webhook | email
    Column("target", Text, nullable=False),
    Column("status", String(16), nullable=False),  # sent | failed
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("error", Text),
    Column("at", TS, nullable=False),
)

report_sends = Table(
    "report_sends", metadata,
    Column("store_id", String(64), primary_key=True),
    Column("period", String(8), primary_key=True),  # daily | weekly
    Column("local_date", String(10), primary_key=True),  # the day (or the week's Monday), YYYY-MM-DD
    Column("claimed_at", TS, nullable=False),
    Column("claimed_by", String(200)),
    Column("sent_at", TS),
    Column("error", Text),
)

TABLES = (alert_episodes, alert_comments, alert_channels, alert_deliveries, report_sends)

# Notices waiting to be sent: written in the same transaction as the episode change, so a notice is
# never lost with a crashed process. A sender claims a row (pending -> sending) before sending; a
# row left pending or sending too long (its process died) is claimed again by a sweep.
alert_outbox = Table(
    "alert_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("episode_id", Integer, ForeignKey("alert_episodes.id", ondelete="CASCADE"), index=True),
    Column("event", String(40), nullable=False),
    Column("notice_json", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sending | done
    Column("created_at", TS, nullable=False),
    Column("claimed_at", TS),
    Column("claimed_by", String(200)),
    Column("tries", Integer, nullable=False, server_default=text("0")),
)
Index("alert_outbox_status", alert_outbox.c.status, alert_outbox.c.created_at)

TABLES = (*TABLES, alert_outbox)
