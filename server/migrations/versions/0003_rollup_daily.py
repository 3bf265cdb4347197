"""rollup_daily: counts per store x local date x scale x mood, filled from rollup_hourly

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_daily",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.String(length=10), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("mood", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("filtered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "local_date", "scale", "mood"),
    )
    op.execute(
        "INSERT INTO rollup_daily (store_id, local_date, scale, mood, counted, filtered) "
        "SELECT store_id, local_date, scale, mood, SUM(counted), SUM(filtered) FROM rollup_hourly "
        "GROUP BY store_id, local_date, scale, mood"
    )


def downgrade() -> None:
    op.drop_table("rollup_daily")
