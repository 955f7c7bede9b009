"""Alembic environment: runs on the connection that `bot.db.migrate` hands it."""

from __future__ import annotations

from alembic import context

from bot.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `bot.db.migrate` drives migrations
    raise RuntimeError("run migrations through `pulih db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
