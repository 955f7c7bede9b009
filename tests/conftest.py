"""Shared fixtures: databases (SQLite file and a real PostgreSQL), the test office."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.db.migrate import upgrade
from bot.db.models import Person
from bot.demo.lab.loopback import OFFICE_ENV
from bot.demo.lab.mariadb import MariaDB, mariadb_available, mariadb_server
from bot.demo.lab.postgres import create_database, find_pg_bin, postgres_server
from bot.demo.lab.sshd import SshServer, ssh_server, sshd_available
from bot.demo.standin import FakeTelegram
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.services.people.actors import actor_for_person
from bot.settings import load_settings
from bot.workflow.rules import Actor
from tests.support.office import NIPS, NOW, write_inventory
from tests.support.smtp import MailServer, mail_server

REQUIRE_SERVERS = bool(os.environ.get("CI") or os.environ.get("PULIH_REQUIRE_SERVERS"))


@pytest.fixture(autouse=True)
def _not_the_callers_office(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own PULIH_* settings never point a test (or the `pulih` it runs in
    process, where the environment wins over the env file) at their office."""
    for key in OFFICE_ENV:
        monkeypatch.delenv(key, raising=False)


def _to_a_standin(leaked: object) -> bool:
    """A socket of PTB's to a Bot API stand-in, left open for the garbage collector."""
    if not isinstance(leaked, socket.socket):
        return False
    try:
        return leaked.getpeername()[1] in FakeTelegram.ports
    except (OSError, IndexError):
        return False


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Every unraisable exception fails the test it lands in (pytest's hook, installed
    before this one), but a ResourceWarning for a client connection of PTB's to a Bot API
    stand-in: PTB's shutdown can leave one to the garbage collector (its polling loop
    cancels the getUpdates in flight without awaiting it), which then warns in whichever
    later test it happens to run. Seen once in hundreds of runs. The asyncio transport's
    own warning is filtered in pyproject.toml (only PTB opens asyncio connections here)."""
    pytests_hook = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, ResourceWarning) and \
                _to_a_standin(unraisable.object):
            return
        pytests_hook(unraisable)

    sys.unraisablehook = hook


def _require(available: bool, what: str, package: str) -> None:
    """Skip a test whose server is not installed; in CI, fail it instead."""
    if not available:
        if REQUIRE_SERVERS:
            pytest.fail(f"{what} is not installed; .ci/run installs {package}")
        pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the whole run (in CI it must exist; elsewhere it may skip)."""
    _require(find_pg_bin() is not None, "PostgreSQL", "postgresql")
    with postgres_server(tmp_path_factory.mktemp("pg")) as url:
        yield url


def _database_url(kind: str, folder: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'pulih.sqlite3'}"
    server = request.getfixturevalue("pg_server")
    return create_database(server, f"t_{uuid.uuid4().hex[:12]}")


def _office_container(database_url: str, folder: Path) -> Container:
    inventory = write_inventory(folder / "office")
    settings = load_settings(
        environ={"PULIH_DATABASE_URL": database_url, "PULIH_DATA_DIR": str(folder / "data"),
                 "PULIH_INVENTORY": str(inventory)},
        env_file=folder / "absent.env",
    )
    c = bootstrap(settings, clock=lambda: NOW)
    upgrade(c.engine)
    with c.unit_of_work() as session:
        sync_inventory(session, load_inventory(inventory), NOW)
    return c


def _actors(container: Container) -> dict[str, Actor]:
    with container.sessions() as session:
        people = {p.nip: p for p in session.execute(select(Person)).scalars()}
        return {name: actor_for_person(session, people[nip]) for name, nip in NIPS.items()}


DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind the product supports."""
    return _database_url(request.param, tmp_path, request)


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """A migrated database holding the test office, with the clock fixed at NOW."""
    c = _office_container(database_url, tmp_path)
    yield c
    c.close()


@pytest.fixture
def actors(container: Container) -> dict[str, Actor]:
    """Every test actor, by the name used in tests.support.office."""
    return _actors(container)


def _module_office(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    folder = tmp_path_factory.mktemp("shared")
    c = _office_container(_database_url(request.param, folder, request), folder)
    yield c
    c.close()


@pytest.fixture(scope="module", params=DATABASES)
def shared_container(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """One office database per module and kind, for tests that leave it as they found it."""
    yield from _module_office(request, tmp_path_factory)


@pytest.fixture(scope="module")
def shared_actors(shared_container: Container) -> dict[str, Actor]:
    return _actors(shared_container)


# The whole actor x action x state matrix on PostgreSQL is a slow run's (it holds no
# rule of its own there: the database-specific paths have their own tests on both).
_MATRIX_DATABASES = ["sqlite", pytest.param("postgresql",
                                            marks=[pytest.mark.postgres, pytest.mark.slow])]


@pytest.fixture(scope="module", params=_MATRIX_DATABASES)
def matrix_container(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """`shared_container`, on PostgreSQL only in the slow run."""
    yield from _module_office(request, tmp_path_factory)


@pytest.fixture(scope="module")
def matrix_actors(matrix_container: Container) -> dict[str, Actor]:
    return _actors(matrix_container)


@pytest.fixture(scope="session")
def backup_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A real sshd standing in for the backup server."""
    _require(sshd_available(), "OpenSSH server", "openssh-server")
    with ssh_server(tmp_path_factory.mktemp("sshd-backup"), "backup-dc") as server:
        yield server


@pytest.fixture(scope="session")
def target_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A second sshd, with its own host key, standing in for an agency's VPS/VM."""
    _require(sshd_available(), "OpenSSH server", "openssh-server")
    with ssh_server(tmp_path_factory.mktemp("sshd-target"), "vps-target") as server:
        yield server


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    """A real MariaDB server on loopback (the agency's live database lives here)."""
    _require(mariadb_available(), "MariaDB", "mariadb-server")
    with mariadb_server(tmp_path_factory.mktemp("mariadb")) as server:
        yield server


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[MailServer]:
    """The office's mail server for one test (aiosmtpd on 127.0.0.1: STARTTLS, a login)."""
    with mail_server(tmp_path / "smtp") as server:
        yield server
