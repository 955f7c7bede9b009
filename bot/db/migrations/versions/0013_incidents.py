"""incidents: a data-centre incident declared with the systems it hit, one request per
system opened on its agency's behalf (requests.incident_id; requests.apart marks one taken
out of the incident's shared cards to be handled on its own); incident_messages: the live
messages the bot keeps for an incident (the team's board, the officials' cards), which
are edited, never sent again (issue 19)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("opened_by", sa.Integer, sa.ForeignKey("people.id",
                  name="fk_incidents_opened_by_people"), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.Integer, sa.ForeignKey("people.id",
                  name="fk_incidents_closed_by_people"), nullable=True),
        sa.Column("summary_id", sa.Integer, nullable=True),
        sa.UniqueConstraint("code", name="uq_incidents_code"),
    )
    op.create_table(
        "incident_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey(
            "incidents.id", name="fk_incident_messages_incident_id_incidents"), nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("message_id", sa.BigInteger, nullable=True),
        sa.Column("shown", sa.Text, nullable=False, server_default=""),
        sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("key", name="uq_incident_messages_key"),
    )
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("incident_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("apart", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.create_foreign_key("fk_requests_incident_id_incidents", "incidents",
                                 ["incident_id"], ["id"])
        batch.create_index("ix_requests_incident_id", ["incident_id"])


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_index("ix_requests_incident_id")
        batch.drop_constraint("fk_requests_incident_id_incidents", type_="foreignkey")
        batch.drop_column("apart")
        batch.drop_column("incident_id")
    op.drop_table("incident_messages")
    op.drop_table("incidents")
