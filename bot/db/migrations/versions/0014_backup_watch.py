"""backup watch (issue 20): watch_runs, one row per morning (or on-demand) look at every
system's backups; backup_watch, what one run found of one system (its history);
systems.backup_every_hours, how often a new restore point is expected

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("summary", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_watch_runs_day", "watch_runs", ["day"])
    op.create_table(
        "backup_watch",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey(
            "watch_runs.id", name="fk_backup_watch_run_id_watch_runs"), nullable=False),
        sa.Column("system_id", sa.Integer, sa.ForeignKey(
            "systems.id", name="fk_backup_watch_system_id_systems"), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("point", sa.String(255), nullable=True),
        sa.Column("point_time", UTCDateTime(), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("full", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("findings", sa.Text, nullable=False, server_default="[]"),
        sa.Column("alerted", sa.Text, nullable=False, server_default="[]"),
        sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column("round_trips", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_backup_watch_system_checked", "backup_watch",
                    ["system_id", "checked_at"])
    op.create_index("ix_backup_watch_run_id", "backup_watch", ["run_id"])
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("backup_every_hours", sa.Integer, nullable=False,
                                   server_default="24"))


def downgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.drop_column("backup_every_hours")
    op.drop_index("ix_backup_watch_run_id", "backup_watch")
    op.drop_index("ix_backup_watch_system_checked", "backup_watch")
    op.drop_table("backup_watch")
    op.drop_index("ix_watch_runs_day", "watch_runs")
    op.drop_table("watch_runs")
