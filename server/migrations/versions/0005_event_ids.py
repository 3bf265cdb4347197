"""event_ids: one id is one event across responses and follow-ups, and pruned ids are remembered

Every stored id gets a row (id, type); ingest claims an id there before storing its event, so a
follow-up can no longer take a response's id (or the reverse), and ``hymy admin prune`` keeps the row
when it deletes the event, so a resend of a pruned event is a duplicate. Filled from both tables; an id
already stored in both (before this revision) keeps its response.

Revision ID: 0005_event_ids
Revises: 0004
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_event_ids"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_ids",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO event_ids (id, type) SELECT id, 'response' FROM responses")
    op.execute("INSERT INTO event_ids (id, type) SELECT f.id, 'followup' FROM followups f "
               "WHERE NOT EXISTS (SELECT 1 FROM event_ids e WHERE e.id = f.id)")


def downgrade() -> None:
    op.drop_table("event_ids")
