"""Fixtures of the chat tests: the local Bot API stand-in, and the office of the whole-SOP
tests (tests.support.sop_flow): the bot on a fresh PostgreSQL database, signing with a
throwaway certificate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.postgres import create_database
from bot.demo.lab.simpeg import damaged_simpeg, drop_simpeg
from bot.demo.lab.sshd import SshServer
from bot.demo.standin import FakeTelegram, fake_telegram
from letters.signing import make_dev_certificate
from tests.support.clock import LAST_NIGHT
from tests.support.sop_flow import Office, open_office


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """The Bot API stand-in on 127.0.0.1, for one test."""
    with fake_telegram() as server:
        yield server


@pytest.fixture
def office_env() -> dict[str, str]:
    """Settings of the office's bot beyond the defaults; a test module may override it."""
    return {}


@pytest.fixture
def office(tmp_path: Path, backup_server: SshServer, target_server: SshServer,
           mariadb: MariaDB, pg_server: str, office_env: dict[str, str]) -> Iterator[Office]:
    root = tmp_path / "srv-backup"
    states = damaged_simpeg(mariadb, root, LAST_NIGHT)
    with fake_telegram() as fake:
        # The office signs its documents (PAdES) with a throwaway certificate.
        p12, passfile = tmp_path / "ttd" / "dev.p12", tmp_path / "ttd" / "dev.p12.pass"
        p12.parent.mkdir()
        make_dev_certificate(p12, passfile, "Muhammad Fajar Setiawan", "Pulih (uji)")
        office = open_office(tmp_path, backup_server, target_server, mariadb, fake, root,
                             states,
                             create_database(pg_server, f"t_{uuid.uuid4().hex[:12]}"),
                             {"PULIH_SIGNING_P12": str(p12),
                              "PULIH_SIGNING_PASSPHRASE_FILE": str(passfile), **office_env})
        yield office
        office.container.close()
    drop_simpeg(mariadb)


