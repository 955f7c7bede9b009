"""systems.db_import_user and run_as: who a dump or an archive is loaded as on the target

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("db_import_user", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("run_as", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.drop_column("run_as")
        batch.drop_column("db_import_user")
