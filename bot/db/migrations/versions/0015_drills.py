"""restore drills (issue 20): restore_runs.kind ("restore", or "uji" for a drill that
restores into a shadow, verifies it and drops it); systems.drill_every_days, how often a
system's backups are restored as a drill (None: only when asked)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("restore_runs") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False,
                                   server_default="restore"))
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("drill_every_days", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.drop_column("drill_every_days")
    with op.batch_alter_table("restore_runs") as batch:
        batch.drop_column("kind")
