"""PostgreSQL (custom and plain dumps) and application-file restores: exact, and undoable."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bot.demo.lab.postgres import create_database
from bot.demo.lab.sshd import SshServer
from restore.catalog import BackupSource, find_point
from restore.check import CheckReport, Verdict, check_point
from restore.engine import Phase
from restore.recipes import RunNames, TargetSpec
from restore.recipes.files import FilesRecipe
from restore.recipes.postgresql import PostgreSQLRecipe
from restore.ssh import session
from tests.support.backups import gz, tar_gz, write_point
from tests.support.restoring import NOW, MemoryJournal, checked_job, tree

Snapshot = dict[str, list[tuple[object, ...]]]


def pg_url(server: str, database: str) -> str:
    return server.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + \
        f"/{database}"


def pg_snapshot(server: str, database: str) -> Snapshot:
    with psycopg.connect(pg_url(server, database)) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname NOT IN "
            "('pg_catalog', 'information_schema') ORDER BY 1")]
        return {t: list(conn.execute(f"SELECT * FROM {t} ORDER BY 1")) for t in tables}


@pytest.fixture
def portal(pg_server: str, tmp_path: Path) -> Iterator[tuple[str, Path, Snapshot]]:
    name = f"portal_{tmp_path.name[-6:].replace('-', '_')}"
    create_database(pg_server, name)
    with psycopg.connect(pg_url(pg_server, name), autocommit=True) as conn:
        conn.execute("CREATE TABLE sekolah (id int PRIMARY KEY, nama text, data jsonb)")
        conn.execute("CREATE SCHEMA arsip")
        conn.execute("CREATE TABLE arsip.log (id int PRIMARY KEY, isi text)")
        conn.execute("INSERT INTO sekolah SELECT g, 'SD Negeri ' || g || ' Tenggarong ''x''', "
                     "jsonb_build_object('murid', g * 3) FROM generate_series(1, 400) g")
        conn.execute("INSERT INTO arsip.log VALUES (1, 'baris satu'), (2, 'ü ñ 漢')")
    state = pg_snapshot(pg_server, name)
    root = tmp_path / "srv-backup"
    custom = tmp_path / "portal.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(custom), pg_url(pg_server, name)], check=True)
    plain = subprocess.run(["pg_dump", "--no-owner", pg_url(pg_server, name)], check=True,
                           capture_output=True).stdout
    manifest = {"sekolah": 400, "arsip.log": 2}
    write_point(root / "portal", "20261123-0100", {"portal.dump": custom.read_bytes()},
                manifest=manifest)
    write_point(root / "portal", "20261123-0200", {"portal.sql.gz": gz(plain)},
                manifest=manifest)
    yield name, root, state
    with psycopg.connect(pg_url(pg_server, "postgres"), autocommit=True) as conn:
        for (db,) in conn.execute("SELECT datname FROM pg_database WHERE datname = %s OR "
                                  "datname LIKE 'pulih\\_%%'", (name,)).fetchall():
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def pg_damage(server: str, name: str) -> Snapshot:
    with psycopg.connect(pg_url(server, name), autocommit=True) as conn:
        conn.execute("DELETE FROM sekolah WHERE id % 2 = 0")
        conn.execute("DROP TABLE arsip.log")
    return pg_snapshot(server, name)


@pytest.mark.parametrize(("run_id", "point"), [(21, "20261123-0100"), (22, "20261123-0200")])
def test_a_postgresql_database_is_restored_exactly_from_custom_and_plain_dumps(
        pg_server: str, backup_server: SshServer, target_server: SshServer,
        portal: tuple[str, Path, Snapshot], tmp_path: Path, run_id: int,
        point: str) -> None:
    name, root, backup_state = portal
    damaged = pg_damage(pg_server, name)
    port = int(pg_server.rsplit(":", 1)[1].split("/")[0])
    spec = TargetSpec("postgresql", database=name, db_host="127.0.0.1", db_port=port,
                      db_user="postgres")
    outcome = checked_job(run_id, backup_server, target_server, root, "portal", point, spec,
                          tmp_path / "staging").run()
    assert outcome.status == "succeeded", outcome.message
    assert pg_snapshot(pg_server, name) == backup_state
    assert outcome.verification["tables"] == {"sekolah": 400, "arsip.log": 2}
    assert outcome.post_check == {"tables_present": 2}
    recipe = PostgreSQLRecipe(spec)
    with session(target_server.endpoint()) as remote:
        assert recipe.rollback_digest(remote, RunNames(run_id)) == outcome.rollback_digest
        with psycopg.connect(pg_url(pg_server, f"pulih_rb_{run_id}"), autocommit=True) as conn:
            conn.execute("UPDATE sekolah SET nama = 'x' WHERE id = 1")
        assert recipe.rollback_digest(remote, RunNames(run_id)) != outcome.rollback_digest
        with psycopg.connect(pg_url(pg_server, f"pulih_rb_{run_id}"), autocommit=True) as conn:
            conn.execute("UPDATE sekolah SET nama = %s WHERE id = 1",
                         (next(r[1] for r in damaged["public.sekolah"] if r[0] == 1),))
        assert recipe.rollback_digest(remote, RunNames(run_id)) == outcome.rollback_digest
        recipe.rollback(remote, RunNames(run_id))
    assert pg_snapshot(pg_server, name) == damaged


def test_application_files_are_restored_exactly_and_rolled_back_exactly(
        backup_server: SshServer, target_server: SshServer, tmp_path: Path) -> None:
    app = tmp_path / "www" / "disdukcapil"
    content = {"index.php": b"<?php echo 'Disdukcapil';", "config/app.ini": b"debug=false\n",
               "assets/logo.png": bytes(range(256)) * 40, "assets/ruang kosong.txt": b"spasi"}
    for rel, data in content.items():
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_bytes(data)
    backup_tree = tree(app)
    root = tmp_path / "srv-backup"
    write_point(root / "web", "20261123-0200", {"app.tar.gz": tar_gz(content)})
    (app / "index.php").write_bytes(b"<?php echo 'DIRETAS';")
    (app / "config" / "app.ini").unlink()
    (app / "shell.php").write_bytes(b"<?php system($_GET['c']);")
    damaged = tree(app)
    spec = TargetSpec("files", app_dir=str(app))
    outcome = checked_job(31, backup_server, target_server, root, "web", "20261123-0200", spec,
                          tmp_path / "staging").run()
    assert outcome.status == "succeeded", outcome.message
    assert tree(app) == backup_tree
    assert outcome.verification["files"] == 4
    assert tree(Path(f"{app}.pulih-rb-31")) == damaged
    with session(target_server.endpoint()) as remote:
        FilesRecipe(spec).rollback(remote, RunNames(31))
    assert tree(app) == damaged
    assert not Path(f"{app}.pulih-sh-31").exists()


def test_a_files_swap_cut_between_its_two_renames_is_put_back(
        target_server: SshServer, tmp_path: Path) -> None:
    app = tmp_path / "www" / "web"
    app.mkdir(parents=True)
    (app / "index.php").write_text("live")
    before = tree(app)
    shadow = Path(f"{app}.pulih-sh-81")
    shadow.mkdir()
    (shadow / "index.php").write_text("restored")
    app.rename(f"{app}.pulih-rb-81")  # the first rename happened, the second did not
    recipe = FilesRecipe(TargetSpec("files", app_dir=str(app)))
    with session(target_server.endpoint()) as remote:
        assert recipe.settle_swap(remote, RunNames(81)) is False
        recipe.discard_shadow(remote, RunNames(81))
    assert tree(app) == before and not shadow.exists()


def check_card(backup_server: SshServer, root: Path, point: str) -> CheckReport:
    """What the team's step-4 card says of the `web` system's `point`."""
    with session(backup_server.endpoint()) as remote:
        found = find_point(remote, BackupSource(str(root), "web"), point)
        return check_point(remote, found, "files", NOW)


def live_app(tmp_path: Path, name: str) -> tuple[Path, dict[str, str]]:
    """A live application folder with one page, and its tree as it was."""
    app = tmp_path / "www" / name
    app.mkdir(parents=True)
    (app / "index.php").write_bytes(b"<?php echo 'live';")
    return app, tree(app)


def test_a_files_backup_whose_manifest_names_another_tree_is_stopped_before_the_swap(
        backup_server: SshServer, target_server: SshServer, tmp_path: Path) -> None:
    app, live = live_app(tmp_path, "dinsos")
    content = {"index.php": b"<?php echo 'backup';", "data/a.txt": b"satu"}
    right = FilesRecipe.tree_digest({p: hashlib.sha256(d).hexdigest()
                                     for p, d in content.items()})
    spec = TargetSpec("files", app_dir=str(app))
    root = tmp_path / "srv-backup"
    for run_id, (point, digest) in enumerate((("20261123-0100", "ab" * 32),
                                              ("20261123-0200", right)), start=71):
        folder = write_point(root / "web", point, {"app.tar.gz": tar_gz(content)})
        (folder / "manifest.json").write_text(json.dumps({"tables": {}, "tree_sha256": digest}))
        job = checked_job(run_id, backup_server, target_server, root, "web", point, spec,
                          tmp_path / "staging")
        assert job.manifest["tree_sha256"] == digest
        # The check reads the archive whole, so it can tell the team before any restore.
        card = check_card(backup_server, root, point)
        if digest != right:
            assert card.verdict == Verdict.FAILED
            assert ("manifest", Verdict.FAILED) in [(i.name, i.verdict) for i in card.items]
            assert "tree_sha256 di manifest.json" in str(card.items)
            assert "tidak sama dengan isi arsip app.tar.gz" in str(card.items)
        else:
            assert card.verdict == Verdict.PASSED
            assert "sama dengan isi arsip" in str(card.items)
        outcome = job.run()
        if digest != right:
            assert outcome.status == "failed" and not outcome.swapped
            assert "tidak sama dengan tree_sha256 di manifest.json" in outcome.message
            assert "sebelum penggantian" in outcome.message
            assert tree(app) == live
    assert outcome.status == "succeeded", outcome.message
    assert outcome.verification["compared_with_manifest"] is True
    assert tree(app) == {p: hashlib.sha256(d).hexdigest() for p, d in content.items()}
    # Its copy kept for rollback is what pruning removes, and nothing else.
    kept = Path(f"{app}.pulih-rb-72")
    assert tree(kept) == live
    with session(target_server.endpoint()) as remote:
        FilesRecipe(spec).discard_rollback(remote, RunNames(72))
    assert not kept.exists() and tree(app) != live


class MeddleAfterApply(MemoryJournal):
    """Adds one file to the shadow folder, removes another and changes a third once the
    archive is in."""

    shadow: Path | None = None

    def phase(self, phase: Phase, status: str, detail: str = "") -> None:
        super().phase(phase, status, detail)
        if (phase, status) == (Phase.APPLY, "done") and self.shadow is not None:
            (self.shadow / "data" / "a.txt").unlink()
            (self.shadow / "tambahan.php").write_bytes(b"<?php system($_GET['c']);")
            (self.shadow / "b.txt").write_bytes(b"dua, diubah")


def test_a_shadow_that_differs_from_its_archive_is_refused_naming_each_difference(
        backup_server: SshServer, target_server: SshServer, tmp_path: Path) -> None:
    app, live = live_app(tmp_path, "bappeda")
    content = {"index.php": b"<?php echo 'backup';", "data/a.txt": b"satu", "b.txt": b"dua"}
    root = tmp_path / "srv-backup"
    write_point(root / "web", "20261123-0100", {"app.tar.gz": tar_gz(content)})
    journal = MeddleAfterApply()
    journal.shadow = Path(f"{app}.pulih-sh-81")
    outcome = checked_job(81, backup_server, target_server, root, "web", "20261123-0100",
                          TargetSpec("files", app_dir=str(app)), tmp_path / "staging",
                          journal=journal).run()
    assert outcome.status == "failed" and not outcome.swapped
    assert ("1 hilang ('data/a.txt'); 1 lebih ('tambahan.php'); 1 berubah ('b.txt')"
            in outcome.message)
    assert tree(app) == live
