"""e-mail as a second channel (issue 21): people.email from the inventory; outbox.channel
("telegram" or "email") and outbox.address, so that an e-mail is queued, sent once and
recorded like a Telegram message

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("channel", sa.String(8), nullable=False,
                                   server_default="telegram"))
        batch.add_column(sa.Column("address", sa.String(254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("address")
        batch.drop_column("channel")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("email")
