"""alerts and reports: alert episodes (history), comments, deliveries, channels per store, report claims

Owned by server/alerts (see server/alerts/tables.py). Its own branch off the initial schema so it
never collides with the core's numbered revisions; ``server.migrate.upgrade`` goes to every head.

Revision ID: a001_alerts
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a001_alerts"
down_revision = "0001"
branch_labels = ("alerts",)
depends_on = None

TS = sa.String(length=30)


def upgrade() -> None:
    op.create_table(
        "alert_episodes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("rule_json", sa.Text(), nullable=False),
        sa.Column("fired_at", TS, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("cleared_at", TS, nullable=True),
        sa.Column("clear_summary", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
    )
    op.create_index("alert_episodes_store_fired", "alert_episodes", ["store_id", "fired_at"])
    op.create_index("alert_episodes_one_open", "alert_episodes", ["store_id", "rule_id"], unique=True,
                    sqlite_where=sa.text("cleared_at IS NULL"), postgresql_where=sa.text("cleared_at IS NULL"))
    op.create_table(
        "alert_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("episode_id", sa.Integer(), sa.ForeignKey("alert_episodes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_alert_comments_episode_id", "alert_comments", ["episode_id"])
    op.create_table(
        "alert_channels",
        sa.Column("store_id", sa.String(length=64), primary_key=True),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column("email_to", sa.Text(), nullable=True),
        sa.Column("daily_report", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("weekly_report", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", TS, nullable=True),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("episode_id", sa.Integer(), sa.ForeignKey("alert_episodes.id", ondelete="CASCADE"), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_alert_deliveries_episode_id", "alert_deliveries", ["episode_id"])
    op.create_table(
        "report_sends",
        sa.Column("store_id", sa.String(length=64), primary_key=True),
        sa.Column("period", sa.String(length=8), primary_key=True),
        sa.Column("local_date", sa.String(length=10), primary_key=True),
        sa.Column("claimed_at", TS, nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("report_sends")
    op.drop_index("ix_alert_deliveries_episode_id", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_table("alert_channels")
    op.drop_index("ix_alert_comments_episode_id", table_name="alert_comments")
    op.drop_table("alert_comments")
    op.drop_index("alert_episodes_one_open", table_name="alert_episodes")
    op.drop_index("alert_episodes_store_fired", table_name="alert_episodes")
    op.drop_table("alert_episodes")
