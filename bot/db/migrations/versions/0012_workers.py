"""restore_workers: the processes that carry out queued restores (host, zone, last sign of
life); restore_runs.worker, .progress and .cancel_by: which of them carries a run, how far
it is, and who asked it to stop, so that the bot and workers on other hosts share them
through the database (issue 19)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "restore_workers",
        sa.Column("executor", sa.String(120), primary_key=True),
        sa.Column("zone", sa.String(32), nullable=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("seen", sa.Float, nullable=False),
    )
    with op.batch_alter_table("restore_runs") as batch:
        batch.add_column(sa.Column("worker", sa.String(120), nullable=True))
        batch.add_column(sa.Column("progress", sa.Text, nullable=True))
        batch.add_column(sa.Column("cancel_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("restore_runs") as batch:
        batch.drop_column("cancel_by")
        batch.drop_column("progress")
        batch.drop_column("worker")
    op.drop_table("restore_workers")
