"""dashboard: covering indexes so results pages read rollups from the index alone

Owned by server/dashboard (see docs/dashboard.md, "Speed"). Its own branch off the initial schema, like
the alerts branch; ``server.migrate.upgrade`` goes to every head. Only indexes: no data changes.
Measured on 200,000 responses / 10 stores: a 10-store x 365-day results query 79 ms -> 14 ms (SQLite).

Revision ID: d001_dashboard
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "d001_dashboard"
down_revision = "0001"
branch_labels = ("dashboard",)
depends_on = None


def upgrade() -> None:
    op.create_index("rollup_hourly_dash_cover", "rollup_hourly",
                    ["store_id", "local_date", "scale", "mood", "counted", "filtered", "hour_utc"])
    op.create_index("rollup_followups_dash_cover", "rollup_followups",
                    ["store_id", "kind", "local_date", "value", "n"])


def downgrade() -> None:
    op.drop_index("rollup_followups_dash_cover", table_name="rollup_followups")
    op.drop_index("rollup_hourly_dash_cover", table_name="rollup_hourly")
