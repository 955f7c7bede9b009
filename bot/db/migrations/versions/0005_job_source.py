"""document_jobs.source_path: an uploaded request letter, recorded by the documents job

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_jobs") as batch:
        batch.add_column(sa.Column("source_path", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_jobs") as batch:
        batch.drop_column("source_path")
