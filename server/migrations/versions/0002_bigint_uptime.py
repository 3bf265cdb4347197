"""uptime_ms as BIGINT (a Pi up 25 days passes 2**31 ms)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite's INTEGER is already 64-bit; only PostgreSQL needs the change.
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("responses", "devices"):
        op.alter_column(table, "uptime_ms", type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("responses", "devices"):
        op.alter_column(table, "uptime_ms", type_=sa.Integer(), existing_type=sa.BigInteger())
