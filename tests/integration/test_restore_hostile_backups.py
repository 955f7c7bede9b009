"""Hostile backups, each a valid point with correct checksums, restored over real SSH into
real MariaDB, PostgreSQL and folders: nothing runs, nothing outside the shadow changes,
and the team reads which line or member was refused. Honest dumps with triggers, views,
routines and links still restore."""

from __future__ import annotations

import contextlib
import gzip
import os
import pwd
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from bot.demo.lab.loopback import let_others_through
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.postgres import create_database
from bot.demo.lab.sshd import SshServer
from restore.catalog import BackupSource, find_point
from restore.check import Verdict, check_point
from restore.errors import CommandFailed
from restore.inspect_sql import SqlInspector
from restore.recipes import RunNames, Staged, TargetSpec
from restore.recipes.mariadb import MariaDBRecipe
from restore.recipes.postgresql import PostgreSQLRecipe
from restore.ssh import session
from tests.integration.test_restore_mariadb import snapshot
from tests.integration.test_restore_postgresql_files import pg_snapshot, pg_url
from tests.support.backups import write_point
from tests.support.hostile import MARIADB, POSTGRESQL, hostile_archives, tar_of
from tests.support.restoring import NOW as CHECKED_AT
from tests.support.restoring import checked_job, tree, unchecked_job


def refused(outcome: object, payload_why: str) -> str:
    message = getattr(outcome, "message", "")
    assert getattr(outcome, "status", "") == "failed", message
    assert getattr(outcome, "error_code", "") == "backup_unsafe", message
    assert payload_why in message and "ditolak" in message, message
    return str(message)


@pytest.fixture
def maria_world(mariadb: MariaDB, tmp_path: Path) -> Iterator[tuple[str, str, Path, bytes]]:
    """A live database with a trigger, a view and a procedure; another database; a rollback
    copy of an earlier run; an honest dump of the live one."""
    tag = tmp_path.name[-8:].replace("-", "_")
    live, other = f"simpeg_{tag}", f"keuangan_{tag}"
    for name in (live, other, "pulih_rb_7"):
        mariadb.sql(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`")
    mariadb.sql("CREATE TABLE pegawai (id INT PRIMARY KEY, `grant` INT, program TEXT);"
                "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, pesan TEXT);"
                "INSERT INTO pegawai VALUES (1, 2, 'USE mysql; \\\\! x'), (2, 3, 'O''Brien');"
                "CREATE VIEW v AS SELECT p.id, l.pesan FROM pegawai p JOIN log l ON p.id = l.id;"
                "CREATE TRIGGER t1 AFTER INSERT ON pegawai FOR EACH ROW "
                "INSERT INTO log (pesan) VALUES (CONCAT('baru ', NEW.id));"
                "CREATE PROCEDURE hitung(OUT n INT) SELECT COUNT(*) INTO n FROM pegawai;"
                "CREATE SEQUENCE nomor", live)
    mariadb.sql("CREATE TABLE catatan (x INT); INSERT INTO catatan VALUES (1)", other)
    mariadb.sql("CREATE TABLE pegawai (id INT); INSERT INTO pegawai VALUES (7)", "pulih_rb_7")
    dump = subprocess.run(["mariadb-dump", "-S", str(mariadb.socket), "-u", "root",
                           "--routines", "--events", "--triggers", live],
                          check=True, capture_output=True).stdout
    yield live, other, tmp_path, dump
    for name in mariadb.sql("SHOW DATABASES").split():
        if name in (live, other) or name.startswith("pulih_"):
            mariadb.sql(f"DROP DATABASE IF EXISTS `{name}`")


def honest_restore(mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
                   world: tuple[str, str, Path, bytes], spec: TargetSpec, run_id: int) -> None:
    """Dump the live database (its view and routine defined by root; without the trigger,
    since tables with triggers cannot be swapped today), empty it, restore the dump
    through the whole engine: the rows come back."""
    live, _, top, _ = world
    mariadb.sql("DROP TRIGGER IF EXISTS t1", live)
    dump = subprocess.run(["mariadb-dump", "-S", str(mariadb.socket), "-u", "root",
                           "--routines", "--events", live], check=True,
                          capture_output=True).stdout
    assert b"DEFINER=`root`" in dump
    state = snapshot(mariadb, live)
    mariadb.sql("DELETE FROM pegawai", live)
    point = f"20261123-{run_id % 24:02d}00"
    write_point(top / "srv" / "simpeg", point, {"simpeg.sql": dump}, manifest={"pegawai": 2})
    outcome = checked_job(run_id, backup_server, target_server, top / "srv", "simpeg",
                          point, spec, top / "staging").run()
    assert outcome.status == "succeeded", outcome.message
    assert snapshot(mariadb, live) == state


@pytest.mark.slow  # every hostile dump is a restore of its own: over a minute
def test_every_hostile_mariadb_dump_is_refused_by_line_and_nothing_runs(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        maria_world: tuple[str, str, Path, bytes]) -> None:
    live, other, top, dump = maria_world
    spec = TargetSpec("mariadb", database=live, db_host=str(mariadb.socket), db_user="root")
    before = {db: snapshot(mariadb, db) for db in (live, other, "pulih_rb_7")}
    canary = top / "canary-mariadb"
    values = {"canary": str(canary), "live": live, "other": other}
    for index, payload in enumerate(MARIADB):
        point = f"20261123-{index // 60:02d}{index % 60:02d}"
        body = dump + b"\n" + payload.sql.format(**values).encode() + b"\n"
        write_point(top / "srv" / "simpeg", point, {"simpeg.sql.gz": gzip.compress(body)})
        outcome = unchecked_job(400 + index, backup_server, target_server, top / "srv",
                              "simpeg", point, spec, top / "staging").run()
        message = refused(outcome, payload.why)
        assert "baris " in message, payload.name
        assert not canary.exists(), payload.name
    assert {db: snapshot(mariadb, db) for db in (live, other, "pulih_rb_7")} == before
    assert not [d for d in mariadb.sql("SHOW DATABASES").split()
                if d.startswith("pulih_") and d != "pulih_rb_7"]
    assert other + "_baru" not in mariadb.sql("SHOW DATABASES").split()


def test_an_honest_mariadb_dump_with_views_and_routines_still_restores(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        maria_world: tuple[str, str, Path, bytes]) -> None:
    live, _, _, dump = maria_world
    inspector = SqlInspector("mariadb")
    inspector.feed(dump)
    assert inspector.findings() == []  # the trigger, the view, the routine, the sequence
    # A table with a trigger cannot be renamed into another database (MariaDB error 1435),
    # so the swap refuses such a database today; restored without it.
    spec = TargetSpec("mariadb", database=live, db_host=str(mariadb.socket), db_user="root")
    honest_restore(mariadb, backup_server, target_server, maria_world, spec, 450)


@pytest.fixture
def pg_world(pg_server: str, tmp_path: Path) -> Iterator[tuple[str, str, Path, bytes, bytes]]:
    """A live database with a schema, a trigger function and a view; another database;
    an honest plain dump, and a custom-format dump whose function would run a program."""
    tag = tmp_path.name[-6:].replace("-", "_")
    live, other, evil = f"portal_{tag}", f"keuangan_{tag}", f"jahat_{tag}"
    canary = tmp_path / "canary-pg-custom"
    for name in (live, other, evil):
        create_database(pg_server, name)
    with psycopg.connect(pg_url(pg_server, live), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA laporan; CREATE TABLE laporan.log (id serial, pesan text);"
                     "CREATE TABLE pegawai (id int PRIMARY KEY, program text, \"grant\" int);"
                     "INSERT INTO pegawai VALUES (1, 'COPY x TO PROGRAM', 1), (2, E'\\\\! x', 2);"
                     "CREATE FUNCTION catat() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
                     "INSERT INTO laporan.log (pesan) VALUES ('baru ' || NEW.id); RETURN NEW; "
                     "END $f$;"
                     "CREATE TRIGGER t1 AFTER INSERT ON pegawai FOR EACH ROW "
                     "EXECUTE FUNCTION catat();"
                     "CREATE VIEW v AS SELECT id FROM pegawai")
    with psycopg.connect(pg_url(pg_server, other), autocommit=True) as conn:
        conn.execute("CREATE TABLE catatan (x int); INSERT INTO catatan VALUES (1)")
    with psycopg.connect(pg_url(pg_server, evil), autocommit=True) as conn:
        conn.execute("CREATE TABLE pegawai (id int PRIMARY KEY);"
                      "CREATE FUNCTION public.jahat() RETURNS trigger LANGUAGE plpgsql AS $f$ "
                      f"BEGIN COPY (SELECT 1) TO PROGRAM 'touch {canary}'; RETURN NEW; END $f$;"
                      "CREATE TRIGGER t1 BEFORE INSERT ON pegawai FOR EACH ROW "
                      "EXECUTE FUNCTION jahat()")
    plain = subprocess.run(["pg_dump", "--no-owner", pg_url(pg_server, live)], check=True,
                           capture_output=True).stdout
    custom = subprocess.run(["pg_dump", "-Fc", pg_url(pg_server, evil)], check=True,
                            capture_output=True).stdout
    yield live, other, tmp_path, plain, custom
    with psycopg.connect(pg_url(pg_server, "postgres"), autocommit=True) as conn:
        for (db,) in conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s) OR "
                                  "datname LIKE 'pulih\\_%%'", ([live, other, evil],)).fetchall():
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _pg_spec(pg_server: str, live: str) -> TargetSpec:
    port = int(pg_server.rsplit(":", 1)[1].split("/")[0])
    return TargetSpec("postgresql", database=live, db_host="127.0.0.1", db_port=port,
                      db_user="postgres")


def _pg_databases(pg_server: str) -> set[str]:
    with psycopg.connect(pg_url(pg_server, "postgres")) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


@pytest.mark.slow  # every hostile dump is a restore of its own: over a minute
def test_every_hostile_postgresql_dump_is_refused_by_line_and_nothing_runs(
        pg_server: str, backup_server: SshServer, target_server: SshServer,
        pg_world: tuple[str, str, Path, bytes, bytes]) -> None:
    live, other, top, plain, custom = pg_world
    spec = _pg_spec(pg_server, live)
    before = {db: pg_snapshot(pg_server, db) for db in (live, other)}
    databases = _pg_databases(pg_server)
    canary = top / "canary-pg"
    values = {"canary": str(canary), "live": live, "other": other}
    for index, payload in enumerate(POSTGRESQL):
        point = f"20261123-{index // 60:02d}{index % 60:02d}"
        body = plain + b"\n" + payload.sql.format(**values).encode() + b"\n"
        write_point(top / "srv" / "portal", point, {"portal.sql": body})
        outcome = unchecked_job(500 + index, backup_server, target_server, top / "srv",
                              "portal", point, spec, top / "staging").run()
        assert "baris " in refused(outcome, payload.why), payload.name
        assert not canary.exists(), payload.name
    write_point(top / "srv" / "portal", "20261124-0100", {"portal.dump": custom})
    outcome = checked_job(550, backup_server, target_server, top / "srv", "portal",
                          "20261124-0100", spec, top / "staging").run()
    assert "menjalankan program" in refused(outcome, "baris ")
    assert not (top / "canary-pg-custom").exists()
    assert {db: pg_snapshot(pg_server, db) for db in (live, other)} == before
    assert _pg_databases(pg_server) == databases


def test_an_honest_postgresql_dump_with_a_trigger_function_still_restores(
        pg_server: str, backup_server: SshServer, target_server: SshServer,
        pg_world: tuple[str, str, Path, bytes, bytes]) -> None:
    live, _, top, plain, _ = pg_world
    state = pg_snapshot(pg_server, live)
    with psycopg.connect(pg_url(pg_server, live), autocommit=True) as conn:
        conn.execute("DELETE FROM pegawai")
    write_point(top / "srv" / "portal", "20261124-0200", {"portal.sql": plain})
    outcome = checked_job(560, backup_server, target_server, top / "srv", "portal",
                          "20261124-0200", _pg_spec(pg_server, live), top / "staging").run()
    assert outcome.status == "succeeded", outcome.message
    assert pg_snapshot(pg_server, live) == state


@pytest.mark.slow  # every hostile archive is restored: about 25 s
def test_hostile_archives_are_refused_by_member_and_honest_ones_land_without_risky_modes(
        backup_server: SshServer, target_server: SshServer, tmp_path: Path) -> None:
    app = tmp_path / "www" / "portal"
    app.mkdir(parents=True)
    (app / "index.php").write_text("<?php echo 'live';")
    web = pwd.getpwnam("nobody")  # stands for the web server's user, who owns the live app
    os.chown(app, web.pw_uid, web.pw_gid)
    let_others_through(app)  # as /var/www is: the reading user reaches the shadow beside it
    canary = tmp_path / "www" / "canary-files"
    # tar reads the archives as an unprivileged user (run_as); the tree then goes to the
    # live folder's owner.
    spec = TargetSpec("files", app_dir=str(app), run_as="nobody")
    for index, archive in enumerate(hostile_archives(str(canary))):
        before = tree(app)
        point = f"20261123-{index // 60:02d}{index % 60:02d}"
        write_point(tmp_path / "srv" / "portal", point, {"portal.tar.gz": tar_of(archive)})
        outcome = unchecked_job(600 + index, backup_server, target_server, tmp_path / "srv",
                              "portal", point, spec, tmp_path / "staging").run()
        assert not canary.exists(), archive.name
        if archive.why:
            assert "anggota " in refused(outcome, archive.why), archive.name
            assert tree(app) == before, archive.name
            continue
        assert outcome.status == "succeeded", (archive.name, outcome.message)
        for path in [app, *app.rglob("*")]:
            info = os.lstat(path)
            assert (info.st_uid, info.st_gid) == (web.pw_uid, web.pw_gid), path
            if not stat.S_ISLNK(info.st_mode):
                assert not info.st_mode & (stat.S_IWOTH | stat.S_ISUID | stat.S_ISGID), path
    assert (app / "public" / "storage").is_symlink()
    assert (app / "public" / "storage" / "foto.jpg").read_bytes() == b"jpg"
    assert not [p for p in app.parent.iterdir() if ".pulih-sh-" in p.name]


def test_a_postgresql_import_role_holds_where_the_reader_is_bypassed_and_honest_dumps_land(
        pg_server: str, backup_server: SshServer, target_server: SshServer,
        pg_world: tuple[str, str, Path, bytes, bytes]) -> None:
    live, other, top, plain, _ = pg_world
    tag = top.name[-6:].replace("-", "_")
    importer = f"impor_{tag}"
    with psycopg.connect(pg_url(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{importer}" LOGIN')
    spec = replace(_pg_spec(pg_server, live), db_import_user=importer)
    recipe = PostgreSQLRecipe(spec)
    # Where the database server's own user could write, so that the control below can
    # show the payload would have run without the role.
    canary = Path(f"/tmp/pulih-kanari-{tag}")
    before = {db: pg_snapshot(pg_server, db) for db in (live, other)}
    databases = _pg_databases(pg_server)
    # Straight into the import, past the transfer and its reader: the role is what holds.
    staging = top / "langsung"
    staging.mkdir()
    payloads = [f"COPY (SELECT 1) TO PROGRAM 'touch {canary}';",
                f"COPY public.pegawai TO '{canary}';", "SELECT pg_read_file('/etc/passwd');",
                f"CREATE DATABASE {other}_baru;", f"DROP DATABASE {live};",
                f'ALTER ROLE "{importer}" SUPERUSER;', "CREATE ROLE jahat SUPERUSER;",
                "CREATE EXTENSION dblink;"]
    with session(target_server.endpoint()) as remote:
        for index, payload in enumerate(payloads):
            dump = staging / f"jahat{index}.sql"
            dump.write_bytes(plain + b"\n" + payload.encode() + b"\n")
            names = RunNames(900 + index)
            with pytest.raises(CommandFailed) as failed:
                recipe.apply(remote, Staged(dump.name, str(dump), dump.stat().st_size), names)
            assert "ditolak" in failed.value.message or "gagal" in failed.value.message
            recipe.discard_shadow(remote, names)
    assert not canary.exists()
    assert {db: pg_snapshot(pg_server, db) for db in (live, other)} == before
    assert _pg_databases(pg_server) == databases
    with psycopg.connect(pg_url(pg_server, "postgres")) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s",
                            (importer,)).fetchone() == (False,)
    # A client command the reader would refuse, run by psql as the unprivileged run_as
    # user, cannot write where only root can; as the SSH user (root) it could.
    rooted = Path(f"/root/pulih-kanari-{tag}")
    dump = staging / "klien.sql"
    dump.write_bytes(plain + f"\n\\! touch {rooted}\n".encode())
    with session(target_server.endpoint()) as remote:
        for run_as, run_id in (("nobody", 960), (None, 961)):
            reader = PostgreSQLRecipe(replace(spec, run_as=run_as))
            with contextlib.suppress(CommandFailed):
                reader.apply(remote, Staged(dump.name, str(dump), dump.stat().st_size),
                             RunNames(run_id))
            reader.discard_shadow(remote, RunNames(run_id))
            assert rooted.exists() == (run_as is None), run_as
    rooted.unlink()
    # The control: imported as db_user (a superuser), the first payload does run.
    with session(target_server.endpoint()) as remote:
        dump = staging / "jahat0.sql"
        PostgreSQLRecipe(_pg_spec(pg_server, live)).apply(
            remote, Staged(dump.name, str(dump), dump.stat().st_size), RunNames(950))
        PostgreSQLRecipe(_pg_spec(pg_server, live)).discard_shadow(remote, RunNames(950))
    assert canary.exists()
    canary.unlink()
    # An honest dump (made --no-owner) restores through the whole engine, and what lands
    # belongs to the live database's owner, not to the import role.
    write_point(top / "srv" / "portal", "20261124-0300", {"portal.sql": plain})
    outcome = checked_job(570, backup_server, target_server, top / "srv", "portal",
                          "20261124-0300", spec, top / "staging").run()
    assert outcome.status == "succeeded", outcome.message
    assert pg_snapshot(pg_server, live) == before[live]
    with psycopg.connect(pg_url(pg_server, live)) as conn:
        owners = {r[0] for r in conn.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname IN ('public', 'laporan')")}
        assert owners == {"postgres"}
        assert conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE "
                            "datname = current_database()").fetchone() == ("postgres",)


def test_a_mariadb_import_account_holds_where_the_reader_is_bypassed_and_honest_dumps_land(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        maria_world: tuple[str, str, Path, bytes]) -> None:
    live, other, top, dump = maria_world
    tag = top.name[-8:].replace("-", "_")
    account = f"impor_{tag}"
    mariadb.sql(f"CREATE USER '{account}'@'localhost' IDENTIFIED BY 'sandi-uji'")
    options = top / "impor.cnf"  # the import account's password, in its own group
    options.write_text("[client_import]\npassword=sandi-uji\n")
    options.chmod(0o600)
    spec = TargetSpec("mariadb", database=live, db_host=str(mariadb.socket), db_user="root",
                      db_defaults_file=str(options), db_import_user=account)
    recipe = MariaDBRecipe(spec)
    canary = Path(f"/tmp/pulih-kanari-m-{tag}")  # the server's own user could write here
    before = {db: snapshot(mariadb, db) for db in (live, other, "pulih_rb_7")}
    payloads = [f"INSERT INTO `{other}`.`catatan` VALUES (5);", f"DROP DATABASE `{live}`;",
                "CREATE USER 'penyusup'@'%';", f"SELECT 1 INTO OUTFILE '{canary}';",
                f"GRANT ALL ON *.* TO '{account}'@'localhost';",
                "DELETE FROM pulih_rb_7.pegawai;",
                "DELIMITER ;;\nCREATE DEFINER=`root`@`localhost` TRIGGER jahat AFTER INSERT ON "
                f"pegawai FOR EACH ROW INSERT INTO `{other}`.`catatan` VALUES (6) ;;\n"
                "DELIMITER ;\nINSERT INTO pegawai VALUES (77, 1, 'x');"]
    staging = top / "langsung"
    staging.mkdir()
    with session(target_server.endpoint()) as remote:
        for index, payload in enumerate(payloads):
            staged = staging / f"jahat{index}.sql"
            staged.write_bytes(dump + b"\n" + payload.encode() + b"\n")
            names = RunNames(800 + index)
            with pytest.raises(CommandFailed):
                recipe.apply(remote, Staged(staged.name, str(staged), staged.stat().st_size),
                             names)
            recipe.discard_shadow(remote, names)
        # The control: as db_user (root), the first payload does write another database.
        plain = MariaDBRecipe(replace(spec, db_import_user=None))
        staged = staging / "jahat0.sql"
        plain.apply(remote, Staged(staged.name, str(staged), staged.stat().st_size),
                    RunNames(850))
        plain.discard_shadow(remote, RunNames(850))
    assert "5" in mariadb.sql("SELECT x FROM catatan", other).split()
    mariadb.sql("DELETE FROM catatan WHERE x = 5", other)
    assert {db: snapshot(mariadb, db) for db in (live, other, "pulih_rb_7")} == before
    assert not canary.exists()
    assert "penyusup" not in mariadb.sql("SELECT User FROM mysql.user").split()
    grants = mariadb.sql(f"SHOW GRANTS FOR '{account}'@'localhost'")
    assert "ALL PRIVILEGES ON *.*" not in grants and "pulih_sh_" not in grants
    # An honest dump whose view and routine name root as definer restores through the
    # whole engine under the account.
    honest_restore(mariadb, backup_server, target_server, maria_world, spec, 860)
    assert "pulih_sh_" not in mariadb.sql(f"SHOW GRANTS FOR '{account}'@'localhost'")
    mariadb.sql(f"DROP USER '{account}'@'localhost'")


def test_the_step_four_check_reads_the_content_and_fails_a_hostile_point(
        backup_server: SshServer, maria_world: tuple[str, str, Path, bytes]) -> None:
    _, other, top, dump = maria_world
    write_point(top / "srv" / "simpeg", "20261123-0800", {"simpeg.sql.gz": gzip.compress(dump)})
    hostile = dump + f"\nINSERT INTO `{other}`.`catatan` VALUES (7);\n".encode()
    write_point(top / "srv" / "simpeg", "20261123-0900", {"simpeg.sql.gz": gzip.compress(hostile)})
    line = hostile.count(b"\n")
    with session(backup_server.endpoint()) as remote:
        source = BackupSource(str(top / "srv"), "simpeg")
        honest = check_point(remote, find_point(remote, source, "20261123-0800"), "mariadb",
                             CHECKED_AT)
        bad = check_point(remote, find_point(remote, source, "20261123-0900"), "mariadb",
                          CHECKED_AT)
    content = {i.name: i for i in honest.items}["isi simpeg.sql.gz"]
    assert content.verdict == Verdict.PASSED and "Dibaca seluruhnya" in content.detail
    content = {i.name: i for i in bad.items}["isi simpeg.sql.gz"]
    assert bad.verdict == Verdict.FAILED and content.verdict == Verdict.FAILED
    assert f"baris {line}" in content.detail and "basis data lain" in content.detail
    assert "Data live" not in content.detail
