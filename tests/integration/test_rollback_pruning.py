"""`pulih rollbacks prune` removes exactly the copies whose time is up, on every kind of
system: the copies kept for rollback, and what a rollback set aside."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.cli import main
from bot.db.models import RestoreRun
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.postgres import create_database
from bot.demo.lab.simpeg import damaged_simpeg, drop_simpeg
from bot.demo.lab.sshd import SshServer
from bot.settings import load_settings
from restore.recipes import RunNames
from tests.support.backups import gz, tar_gz, write_point
from tests.support.clock import LAST_NIGHT, running
from tests.support.networked_office import networked_office
from tests.support.office import NIPS, NOW

PORTAL = "portal_pendidikan"


class Kind:
    """One kind of system in the office, and where its copies show on its server."""

    code: str
    extra: dict[str, Any] = {}  # noqa: RUF012 - read only

    def copies(self, runs: list[RunNames]) -> set[str]:
        """Which of the runs' copies (`rb` kept for rollback, `un` set aside by one) exist,
        as `rb1`, `un2`... by run number."""
        raise NotImplementedError


class Simpeg(Kind):
    code = "simpeg"

    def __init__(self, mariadb: MariaDB, root: Path) -> None:
        self.mariadb = mariadb
        damaged_simpeg(mariadb, root, LAST_NIGHT)
        self.extra = {"system_extra": f'db_host = "{mariadb.socket}"\ndb_user = "root"'}

    def copies(self, runs: list[RunNames]) -> set[str]:
        names = set(self.mariadb.sql("SHOW DATABASES").split())
        return {f"{k}{r.run_id}" for r in runs for k in ("rb", "un") if r.db(k) in names}


class Portal(Kind):
    code = "portal-pendidikan"

    def __init__(self, pg_server: str, root: Path) -> None:
        self.url = create_database(pg_server, PORTAL).replace("postgresql+psycopg://",
                                                              "postgresql://")
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE sekolah (id int PRIMARY KEY, nama text)")
            conn.execute("INSERT INTO sekolah VALUES (1, 'SD 1'), (2, 'SD 2')")
        dump = subprocess.run(["pg_dump", "--no-owner", self.url], check=True,
                              capture_output=True).stdout
        write_point(root / self.code, LAST_NIGHT, {"portal.sql.gz": gz(dump)})
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("DELETE FROM sekolah WHERE id = 2")
        port = int(pg_server.rsplit(":", 1)[1].split("/")[0])
        self.extra = {"portal_extra": f'db_host = "127.0.0.1"\ndb_port = {port}\n'
                                      'db_user = "postgres"'}
        self.server = self.url.rsplit("/", 1)[0] + "/postgres"

    def copies(self, runs: list[RunNames]) -> set[str]:
        with psycopg.connect(self.server) as conn:
            names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        return {f"{k}{r.run_id}" for r in runs for k in ("rb", "un") if r.db(k) in names}

    def drop(self) -> None:
        with psycopg.connect(self.server, autocommit=True) as conn:
            left = [r[0] for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'pulih\\_%'")]
            for name in [PORTAL, *left]:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Website(Kind):
    code = "web-kominfo"

    def __init__(self, app: Path, root: Path) -> None:
        self.app = app
        write_point(root / self.code, LAST_NIGHT,
                    {"web.tar.gz": tar_gz({"index.php": b"<?php echo 'backup';"})})
        app.mkdir(parents=True)
        (app / "index.php").write_bytes(b"<?php echo 'rusak';")
        self.extra = {"web_app_dir": str(app)}

    def copies(self, runs: list[RunNames]) -> set[str]:
        return {f"{k}{r.run_id}" for r in runs for k in ("rb", "un")
                if Path(r.sibling(str(self.app), k)).is_dir()}


@pytest.fixture(params=["mariadb", "postgresql", "files"])
def system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Kind]:
    root = tmp_path / "srv-backup"
    if request.param == "mariadb":
        mariadb = request.getfixturevalue("mariadb")
        yield Simpeg(mariadb, root)
        drop_simpeg(mariadb)
    elif request.param == "postgresql":
        portal = Portal(request.getfixturevalue("pg_server"), root)
        yield portal
        portal.drop()
    else:
        yield Website(tmp_path / "www" / "kominfo", root)


def test_rollbacks_prune_removes_exactly_the_expired_copies_on_every_kind_of_system(
        system: Kind, tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = networked_office(tmp_path, backup_server, target_server,
                                tmp_path / "srv-backup", **system.extra)

    def at(days: float, *args: str, typed: str = "") -> str:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--env-file", str(env_file), *args], out=out, err=err,
                     clock=running(NOW + timedelta(days=days)), stdin=io.StringIO(typed))
        assert code == 0, out.getvalue() + err.getvalue()
        return out.getvalue()

    def restore(days: float) -> None:
        at(days, "restore", system.code, LAST_NIGHT, "--nip", NIPS["tim_exec"],
           typed=system.code + "\n")

    restore(0)  # run 1: its copy kept for rollback
    restore(0)  # run 2, rolled back: what it made live is set aside
    at(0, "rollback", "2", "--nip", NIPS["tim_other"], "--reason", "Salah titik")
    restore(10)  # run 3, ten days later
    office = bootstrap(load_settings(environ={}, env_file=env_file))
    with office.sessions() as session:
        runs = [RunNames(run.id, run.uid or "") for run in session.execute(
            select(RestoreRun).order_by(RestoreRun.id)).scalars()]
    office.close()
    assert [r.run_id for r in runs] == [1, 2, 3] and all(len(r.uid) == 32 for r in runs)
    assert system.copies(runs) == {"rb1", "un2", "rb3"}
    listed = at(10, "rollbacks", "list")
    assert listed.startswith("3 salinan rollback tersimpan.")
    assert f"restore #2 ({system.code}, -): data yang di-rollback, di-rollback" in listed
    assert f"restore #3 ({system.code}, -): salinan rollback, selesai" in listed
    assert at(13, "rollbacks", "prune").startswith("0 salinan rollback dihapus.")
    assert system.copies(runs) == {"rb1", "un2", "rb3"}

    pruned = at(15, "rollbacks", "prune")

    assert pruned.startswith("2 salinan rollback dihapus.")
    assert f"restore #1 ({system.code}, -): salinan rollback dihapus; masa simpan habis" in pruned
    assert f"restore #2 ({system.code}, -): data yang di-rollback dihapus; masa simpan " \
           "habis" in pruned
    assert system.copies(runs) == {"rb3"}  # checked on the server itself
    assert at(15, "rollbacks", "list").startswith("1 salinan rollback tersimpan.")
    assert at(25, "rollbacks", "prune").startswith("1 salinan rollback dihapus.")
    assert system.copies(runs) == set()
