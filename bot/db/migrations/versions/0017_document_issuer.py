"""verification page (issue 21): documents.issuer, signer_name and signer_position, what the
public page shows of a document beside its kind, number and date, recorded when the
document is issued (older documents show them as not recorded)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("issuer", sa.String(200), nullable=True))
        batch.add_column(sa.Column("signer_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("signer_position", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("signer_position")
        batch.drop_column("signer_name")
        batch.drop_column("issuer")
