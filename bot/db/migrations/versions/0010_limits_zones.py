"""backup_servers.max_restores: restores reading from one backup server at once;
systems.priority: which restore goes first when they must wait; zone on both: the data
centre each stands in (issue 19: the queue's limits, and workers near the data)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("backup_servers") as batch:
        batch.add_column(sa.Column("max_restores", sa.Integer(), nullable=False,
                                   server_default="2"))
        batch.add_column(sa.Column("zone", sa.String(32), nullable=True))
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False,
                                   server_default="5"))
        batch.add_column(sa.Column("zone", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.drop_column("zone")
        batch.drop_column("priority")
    with op.batch_alter_table("backup_servers") as batch:
        batch.drop_column("zone")
        batch.drop_column("max_restores")
