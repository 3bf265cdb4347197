"""dashboard: index for the praise wall (newest positive comments of a store, without scanning every follow-up)

Revision ID: d002_dashboard
Revises: d001_dashboard
"""

from __future__ import annotations

from alembic import op

revision = "d002_dashboard"
down_revision = "d001_dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("followups_dash_kind", "followups", ["store_id", "kind", "pressed_at"])


def downgrade() -> None:
    op.drop_index("followups_dash_kind", table_name="followups")
