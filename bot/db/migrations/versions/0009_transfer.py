"""backup_servers.max_rate, systems.max_rate: how fast a backup file may move (bytes
per second), so that a restore never fills an agency's link; systems.pull_*: a target
that fetches its backups itself (its key and known_hosts, paths on the target)

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


PULL = ("pull_key", "pull_known_hosts", "pull_host", "pull_user")


def upgrade() -> None:
    for table in ("backup_servers", "systems"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("max_rate", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("systems") as batch:
        for column in PULL:
            batch.add_column(sa.Column(column, sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        for column in reversed(PULL):
            batch.drop_column(column)
    for table in ("systems", "backup_servers"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("max_rate")
