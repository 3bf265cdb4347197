"""devices: how many damaged local stores the device moved aside (from its heartbeat)

Revision ID: 0006_store_recoveries
Revises: 0005_event_ids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_store_recoveries"
down_revision = "0005_event_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("store_recoveries", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("store_recoveries")
