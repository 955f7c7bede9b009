"""office hours (issue 20): office_settings, the office's settings from the inventory that
the core reads where it has only the database (the working-time calendar as JSON);
deadlines.clock, whether a step's Mutu Baku counts in working time ("kerja") or clock time
("jam"); systems.restore_24_7, a critical system whose restore steps stay on clock time

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "office_settings",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("clock", sa.String(8), nullable=False,
                                   server_default="jam"))
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("restore_24_7", sa.Boolean, nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.drop_column("restore_24_7")
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("clock")
    op.drop_table("office_settings")
