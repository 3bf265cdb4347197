"""alert_rules.id holds "<store id>:<rule id>": 64 + 1 + 200 characters, not 64

A rule id the API accepts (up to 200 characters) made PostgreSQL refuse the row (500); SQLite does not
enforce lengths, so only PostgreSQL needs the change.

Revision ID: 0007_alert_rule_key
Revises: 0006_store_recoveries
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_alert_rule_key"
down_revision = "0006_store_recoveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("alert_rules", "id", type_=sa.String(265), existing_type=sa.String(64))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("alert_rules", "id", type_=sa.String(64), existing_type=sa.String(265))
