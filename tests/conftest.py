"""Shared fixtures: databases (SQLite file and a real PostgreSQL), the test office."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.db.migrate import upgrade
from bot.db.models import Person
from bot.inventory.loader import load_inventory
from bot.services.actors import actor_for_person
from bot.services.inventory_sync import sync_inventory
from bot.settings import load_settings
from bot.workflow.rules import Actor
from tests.support.office import NIPS, NOW, write_inventory
from tests.support.postgres import create_database, find_pg_bin, postgres_server

REQUIRE_SERVERS = bool(os.environ.get("CI") or os.environ.get("PULIH_REQUIRE_SERVERS"))


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the whole run (in CI it must exist; elsewhere it may skip)."""
    if find_pg_bin() is None:
        if REQUIRE_SERVERS:
            pytest.fail("PostgreSQL is not installed; .ci/run installs it (apt postgresql)")
        pytest.skip("PostgreSQL is not installed")
    with postgres_server(tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind the product supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pulih.sqlite3'}"
    server = request.getfixturevalue("pg_server")
    return create_database(server, f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def office_inventory(tmp_path: Path) -> Path:
    return write_inventory(tmp_path / "office")


@pytest.fixture
def container(database_url: str, office_inventory: Path, tmp_path: Path) -> Iterator[Container]:
    """A migrated database holding the test office, with the clock fixed at NOW."""
    settings = load_settings(
        environ={"PULIH_DATABASE_URL": database_url, "PULIH_DATA_DIR": str(tmp_path / "data"),
                 "PULIH_INVENTORY": str(office_inventory)},
        env_file=tmp_path / "absent.env",
    )
    c = bootstrap(settings, clock=lambda: NOW)
    upgrade(c.engine)
    with c.unit_of_work() as session:
        sync_inventory(session, load_inventory(office_inventory), NOW)
    yield c
    c.close()


@pytest.fixture
def actors(container: Container) -> dict[str, Actor]:
    """Every test actor, by the name used in tests.support.office."""
    with container.sessions() as session:
        people = {p.nip: p for p in session.execute(select(Person)).scalars()}
        return {name: actor_for_person(session, people[nip]) for name, nip in NIPS.items()}
