"""restore_runs.queue_slot: the restore queue's partition a run waits and runs in (its
backup server's slot); restore_runs.status may now be 'queued' (issue 19)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("restore_runs") as batch:
        batch.add_column(sa.Column("queue_slot", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("restore_runs") as batch:
        batch.drop_column("queue_slot")
