"""rollup_region_daily (filled from rollup_daily); follow-ups keep their device clock

Follow-ups get the clock fields responses have, so a heartbeat corrects them too and a resend is
compared column by column (rows from now on store an empty content_hash).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# the same statement as server.rollups.rebuild_regions (a migration keeps its own copy: code moves on)
FILL = ("INSERT INTO rollup_region_daily (region_id, local_date, scale, mood, counted, filtered) "
        "SELECT s.region_id, d.local_date, d.scale, d.mood, SUM(d.counted), SUM(d.filtered) "
        "FROM rollup_daily d JOIN stores s ON s.id = d.store_id WHERE s.region_id IS NOT NULL "
        "GROUP BY s.region_id, d.local_date, d.scale, d.mood")


def upgrade() -> None:
    op.create_table(
        "rollup_region_daily",
        sa.Column("region_id", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.String(length=10), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("mood", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("filtered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_id", "local_date", "scale", "mood"),
    )
    op.execute(FILL)
    with op.batch_alter_table("followups") as b:
        b.add_column(sa.Column("clock_synced", sa.Boolean(), nullable=True))
        b.add_column(sa.Column("boot_id", sa.String(length=200), nullable=True))
        b.add_column(sa.Column("uptime_ms", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("clock_corrected", sa.Boolean(), nullable=True))
        b.add_column(sa.Column("device_pressed_at", sa.String(length=30), nullable=True))
        b.add_column(sa.Column("server_corrected_at", sa.String(length=30), nullable=True))
        b.add_column(sa.Column("original_pressed_at", sa.String(length=30), nullable=True))
    op.create_index("followups_device_boot", "followups", ["device_id", "boot_id", "clock_synced"])


def downgrade() -> None:
    op.drop_index("followups_device_boot", table_name="followups")
    with op.batch_alter_table("followups") as b:
        for c in ("original_pressed_at", "server_corrected_at", "device_pressed_at", "clock_corrected",
                  "uptime_ms", "boot_id", "clock_synced"):
            b.drop_column(c)
    op.drop_table("rollup_region_daily")
