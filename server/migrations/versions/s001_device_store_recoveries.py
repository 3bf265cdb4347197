"""devices: how many damaged local stores the device moved aside (from its heartbeat)

Its own branch (like ``alerts`` and ``dashboard``), so it never collides with the core's numbered
revisions; ``server.migrate.upgrade`` goes to every head.

Revision ID: s001_store_recoveries
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s001_store_recoveries"
down_revision = "0001"
branch_labels = ("device_store",)
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("store_recoveries", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("store_recoveries")
