"""alerts: the notice outbox (a notice is committed with its episode change, sent by a claiming sender)

Revision ID: a002_alert_outbox
Revises: a001_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a002_alert_outbox"
down_revision = "a001_alerts"
branch_labels = None
depends_on = None

TS = sa.String(length=30)


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("episode_id", sa.Integer(), sa.ForeignKey("alert_episodes.id", ondelete="CASCADE"), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("notice_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_index("ix_alert_outbox_episode_id", "alert_outbox", ["episode_id"])
    op.create_index("alert_outbox_status", "alert_outbox", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("alert_outbox_status", table_name="alert_outbox")
    op.drop_index("ix_alert_outbox_episode_id", table_name="alert_outbox")
    op.drop_table("alert_outbox")
