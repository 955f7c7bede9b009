"""people.last_seen_at: when the person's account last reached the bot;
people.suspended_at / suspended_by: deactivated by an admin (a sync does not undo it);
people.revoked_telegram_id: an account an admin unlinked (a sync does not bind it again)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("last_seen_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("suspended_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("suspended_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("revoked_telegram_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("revoked_telegram_id")
        batch.drop_column("suspended_by")
        batch.drop_column("suspended_at")
        batch.drop_column("last_seen_at")
