"""restore_runs.uid: a run's UUID, in the names of what it leaves on the target;
systems.staging_dir: where a system's restores stage their backup;
restore_runs.message_ref: the chat message showing a run's progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("restore_runs") as batch:
        batch.add_column(sa.Column("uid", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("message_ref", sa.Text(), nullable=True))
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("staging_dir", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.drop_column("staging_dir")
    with op.batch_alter_table("restore_runs") as batch:
        batch.drop_column("message_ref")
        batch.drop_column("uid")
