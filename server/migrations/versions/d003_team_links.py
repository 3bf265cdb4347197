"""dashboard: team screen links (a revocable, read-only display link per store; only the token's hash)

Owned by server/dashboard (see docs/dashboard.md, "Team screen"). On the dashboard branch after d002.

Revision ID: d003_dashboard
Revises: d002_dashboard
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d003_dashboard"
down_revision = "d002_dashboard"
branch_labels = None
depends_on = None

TS = sa.String(length=30)


def upgrade() -> None:
    op.create_table(
        "team_links",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("store_id", sa.String(length=64), sa.ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
    )
    op.create_index("ix_team_links_store_id", "team_links", ["store_id"])


def downgrade() -> None:
    op.drop_index("ix_team_links_store_id", table_name="team_links")
    op.drop_table("team_links")
