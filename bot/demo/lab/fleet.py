"""A fleet of small systems for mass restores (issue 19): MariaDB, PostgreSQL and files
systems in turn, each with its live state, last night's restore point on one of several
backup servers, and a way to damage it and to check that it is whole again. They live
side by side on one target server (one sshd, one MariaDB, one PostgreSQL, one folder),
as many agencies' VMs would on separate ones.

Used by `benchmarks/mass_restore.py` and the incident tests; the inventory it writes
(`inventory_text`) names every system with its agency, backup server and recipe."""

from __future__ import annotations

import hashlib
import io
import random
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bot.demo.lab.backup_point import gz, write_point
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.sshd import SshServer

RECIPES = ("mariadb", "postgresql", "files")


@dataclass(frozen=True)
class FleetSystem:
    code: str
    agency: str
    recipe: str
    server: str  # its backup server's name
    database: str  # mariadb and postgresql
    app_dir: Path  # files


@dataclass
class Fleet:
    folder: Path
    backups: dict[str, SshServer]  # by name
    target: SshServer
    mariadb: MariaDB
    pg_url: str  # a superuser URL of the target's PostgreSQL (postgresql://...)
    point: str
    systems: list[FleetSystem]
    expected: dict[str, str]  # each system's digest when whole

    def root(self, server: str) -> Path:
        return self.folder / f"srv-{server}"

    def digest(self, system: FleetSystem) -> str:
        """What the system holds now, as one SHA-256 (rows in order, or files by path)."""
        if system.recipe == "mariadb":
            text = self.mariadb.sql("SELECT * FROM data ORDER BY id", system.database)
            return hashlib.sha256(text.encode()).hexdigest()
        if system.recipe == "postgresql":
            with psycopg.connect(_database(self.pg_url, system.database)) as conn:
                rows = conn.execute("SELECT * FROM data ORDER BY id").fetchall()
            return hashlib.sha256(repr(rows).encode()).hexdigest()
        digest = hashlib.sha256()
        for path in sorted(system.app_dir.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(system.app_dir)).encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def damage(self) -> None:
        """Every system damaged (rows lost and changed, files changed and planted)."""
        for system in self.systems:
            if system.recipe == "mariadb":
                self.mariadb.sql("DELETE FROM data WHERE id % 3 = 0; UPDATE data SET isi = "
                                 "'RUSAK' WHERE id = 1", system.database)
            elif system.recipe == "postgresql":
                with psycopg.connect(_database(self.pg_url, system.database),
                                     autocommit=True) as conn:
                    conn.execute("DELETE FROM data WHERE id % 3 = 0")
                    conn.execute("UPDATE data SET isi = 'RUSAK' WHERE id = 1")
            else:
                (system.app_dir / "index.php").write_bytes(b"<?php echo 'DIRETAS';")
                (system.app_dir / "shell.php").write_bytes(b"<?php system($_GET['c']);")

    def not_whole(self) -> list[str]:
        """The systems whose state is not the backup's."""
        return [s.code for s in self.systems if self.digest(s) != self.expected[s.code]]

    def inventory_text(self, head: str, *, max_restores: int = 2,
                       max_rate: str | None = None) -> str:
        """The inventory: `head` (office, team, agencies, people) then the backup servers
        (each allowed `max_restores` at once, capped at `max_rate` per restore) and the
        systems."""
        parts = [head]
        for name, server in self.backups.items():
            parts.append(
                f'[[backup_servers]]\nname = "{name}"\nhost = "127.0.0.1"\n'
                f'port = {server.port}\nuser = "{server.endpoint().user}"\n'
                f'key = "{server.user_key}"\nknown_hosts = "{server.known_hosts}"\n'
                f'root = "{self.root(name)}"\nmax_restores = {max_restores}\n'
                + (f'max_rate = "{max_rate}"\n' if max_rate else ""))
        target = self.target
        port = self.pg_url.rsplit(":", 1)[1].split("/")[0]
        for system in self.systems:
            where = {"mariadb": f'database = "{system.database}"\n'
                                f'db_host = "{self.mariadb.socket}"\n'
                                f'db_user = "{self.mariadb.user}"\n',
                     "postgresql": f'database = "{system.database}"\ndb_host = "127.0.0.1"\n'
                                   f'db_port = {port}\ndb_user = "postgres"\n',
                     "files": f'app_dir = "{system.app_dir}"\n'}[system.recipe]
            parts.append(
                f'[[systems]]\ncode = "{system.code}"\nname = "Sistem {system.code}"\n'
                f'agency = "{system.agency}"\nrecipe = "{system.recipe}"\n'
                f'host = "127.0.0.1"\nport = {target.port}\n'
                f'user = "{target.endpoint().user}"\nkey = "{target.user_key}"\n'
                f'known_hosts = "{target.known_hosts}"\nbackup_server = "{system.server}"\n'
                + where)
        return "\n".join(parts)


def _database(url: str, name: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + f"/{name}"


def make_fleet(folder: Path, backups: dict[str, SshServer], target: SshServer,
               mariadb: MariaDB, pg_url: str, agencies: list[str], count: int, point: str,
               rows: int = 2000, seed: int = 19) -> Fleet:
    """`count` systems, recipes in turn, agencies and backup servers in turn, each whole
    now and backed up at `point`; damage them with `Fleet.damage`."""
    names = list(backups)
    pick = random.Random(seed)  # noqa: S311 - test data, not a secret
    systems = []
    for n in range(count):
        code = f"sys{n + 1:02d}"
        systems.append(FleetSystem(code, agencies[n % len(agencies)],
                                   RECIPES[n % len(RECIPES)], names[n % len(names)],
                                   f"fleet_{code}", folder / "www" / code))
    fleet = Fleet(folder, backups, target, mariadb, pg_url, point, systems, {})
    for system in systems:
        text = [(i, pick.randbytes(20).hex()) for i in range(1, rows + 1)]
        files = _make_live(fleet, system, text)
        write_point(fleet.root(system.server) / system.code, point, files,
                    manifest={"data": rows} if system.recipe != "files" else None)
        fleet.expected[system.code] = fleet.digest(system)
    return fleet


def _make_live(fleet: Fleet, system: FleetSystem, rows: list[tuple[int, str]]
               ) -> dict[str, bytes]:
    """The system's live state; the files of its restore point."""
    if system.recipe == "mariadb":
        db = fleet.mariadb
        db.sql(f"DROP DATABASE IF EXISTS `{system.database}`; "
               f"CREATE DATABASE `{system.database}`")
        # MariaDB's sequence engine writes the rows: a statement of any size stays short.
        db.sql(f"CREATE TABLE data (id INT PRIMARY KEY, isi VARCHAR(80)); "
               f"INSERT INTO data SELECT seq, SHA1(CONCAT('{system.code}', seq)) "
               f"FROM seq_1_to_{len(rows)}", system.database)
        dump = subprocess.run(["mariadb-dump", "-S", str(db.socket), "-u", db.user,
                               system.database], check=True, capture_output=True).stdout
        return {f"{system.code}.sql.gz": gz(dump)}
    if system.recipe == "postgresql":
        admin = _database(fleet.pg_url, "postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{system.database}"')
            conn.execute(f'CREATE DATABASE "{system.database}"')
        url = _database(fleet.pg_url, system.database)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE data (id int PRIMARY KEY, isi text)")
            with conn.cursor().copy("COPY data (id, isi) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        dump = subprocess.run(["pg_dump", "--no-owner", url], check=True,
                              capture_output=True).stdout
        return {f"{system.code}.sql.gz": gz(dump)}
    content = {"index.php": f"<?php echo '{system.code}';".encode(),
               "config/app.ini": b"debug=false\n",
               "data/isi.txt": "\n".join(text for _, text in rows).encode()}
    for rel, data in content.items():
        path = system.app_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in sorted(content.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1763600000
            archive.addfile(info, io.BytesIO(data))
    return {f"{system.code}.tar.gz": buffer.getvalue()}
