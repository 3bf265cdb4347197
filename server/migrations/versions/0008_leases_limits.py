"""leases (periodic jobs once across processes, live processes), rate_counts (the request limits' shared
counts) and attempts (enrolment and sign-in attempts, limited exactly across processes)

Revision ID: 0008_leases_limits
Revises: 0007_alert_rule_key
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_leases_limits"
down_revision = "0007_alert_rule_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=200), primary_key=True),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rate_counts",
        sa.Column("minute", sa.BigInteger(), primary_key=True),
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("holder", sa.String(length=200), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("attempts_key_at", "attempts", ["key", "at"])


def downgrade() -> None:
    op.drop_index("attempts_key_at", table_name="attempts")
    op.drop_table("attempts")
    op.drop_table("rate_counts")
    op.drop_table("leases")
