"""Migrations: empty to head on SQLite and PostgreSQL, and the models never drift from them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.db.engine import make_engine
from bot.db.migrate import current_revision, head_revision, upgrade
from bot.db.models import Base

TABLES = {"agencies", "people", "link_codes", "role_assignments", "delegations",
          "backup_servers", "systems", "requests", "audit_events", "audit_head", "deadlines",
          "backup_checks", "restore_runs", "documents", "letter_numbers", "outbox",
          "document_jobs", "conversations", "inbox", "restore_workers", "incidents",
          "incident_messages", "watch_runs", "backup_watch", "office_settings", "alembic_version"}


def test_an_empty_database_upgrades_to_head_and_again_without_change(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) == TABLES
        upgrade(engine)  # a second run is a no-op, not an error
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_the_models_match_what_the_migrations_create(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
