"""rollup_generations: a number per store that grows whenever a rollup of one of its settled local dates
changes, so the dashboard may remember figures of past days per process (server.results.settled)

Revision ID: 0009_rollup_generations
Revises: 0008_leases_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_rollup_generations"
down_revision = "0008_leases_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_generations",
        sa.Column("store_id", sa.String(length=64), primary_key=True),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("rollup_generations")
