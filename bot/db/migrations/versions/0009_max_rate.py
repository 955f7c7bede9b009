"""backup_servers.max_rate, systems.max_rate: how fast a backup file may move (bytes
per second), so that a restore never fills an agency's link

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("backup_servers", "systems"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("max_rate", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for table in ("systems", "backup_servers"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("max_rate")
