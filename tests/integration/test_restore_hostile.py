"""Hostile names and paths never reach a shell raw, and nothing outside the roots changes."""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from bot.demo.lab.sshd import SshServer
from restore.catalog import BackupSource, find_point, list_points
from restore.errors import RestoreError, UnsafeValue
from restore.recipes import TargetSpec
from restore.ssh import session
from tests.support.backups import tar_gz, write_point
from tests.support.restoring import checked_job

HOSTILE = ["; rm -rf {canary}", "$(rm -rf {canary})", "`rm -rf {canary}`", "../canary",
           "a'b", 'a"b', "x\nrm -rf {canary}", "ü" * 200, "--help", "-rf", "*", " "]


def everything(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(folder.rglob("*"))}


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    canary = tmp_path / "canary"
    (canary / "etc").mkdir(parents=True)
    (canary / "etc" / "passwd").write_text("root:x:0:0\n")
    (canary / "data.sql").write_text("penting")
    app = tmp_path / "roots" / "www" / "app"
    app.mkdir(parents=True)
    (app / "index.php").write_text("live")
    root = tmp_path / "roots" / "backup"
    write_point(root / "app", "20261123-0200", {"app.tar.gz": tar_gz({"index.php": b"baik"})})
    return tmp_path, canary, app, root


def test_hostile_values_are_refused_and_nothing_outside_the_roots_changes(
        backup_server: SshServer, target_server: SshServer,
        world: tuple[Path, Path, Path, Path]) -> None:
    top, canary, app, root = world
    before_canary = everything(canary)
    before_app = everything(app)
    good = TargetSpec("files", app_dir=str(app))
    job = checked_job(61, backup_server, target_server, root, "app", "20261123-0200", good,
                      top / "roots" / "staging")
    refused = 0
    with session(backup_server.endpoint()) as remote:
        for template in HOSTILE:
            word = template.format(canary=canary)
            with pytest.raises(RestoreError):
                list_points(remote, BackupSource(str(root), word))
            with pytest.raises(RestoreError):
                find_point(remote, BackupSource(str(root), "app"), word)
            refused += 2
    specs = [TargetSpec("mariadb", database=t.format(canary=canary)) for t in HOSTILE]
    specs += [TargetSpec("postgresql", database=t.format(canary=canary)) for t in HOSTILE]
    specs += [TargetSpec("files", app_dir=p) for p in
              (f"{app}/../../../canary", "/", "/etc", f"{app}; rm -rf {canary}", "relative/app",
               f"$(rm -rf {canary})")]
    specs += [TargetSpec(kind) for kind in ("oracle", "sh -c 'rm -rf /'", "../files")]
    for spec in specs:
        outcome = replace(job, spec=spec).run()
        assert outcome.status == "failed", spec
        assert outcome.error_code in ("unsafe_value", "backup_invalid"), (spec, outcome)
        refused += 1
    for staging in (f"{canary}/../x", "../x", f"/tmp/a;rm -rf {canary}"):
        outcome = replace(job, staging_root=staging).run()
        assert outcome.status == "failed"
        refused += 1
    assert refused == 2 * len(HOSTILE) + len(specs) + 3
    assert everything(canary) == before_canary
    assert everything(app) == before_app


def test_an_archive_that_climbs_out_of_its_folder_is_refused(
        backup_server: SshServer, target_server: SshServer,
        world: tuple[Path, Path, Path, Path]) -> None:
    top, canary, app, root = world
    before_canary = everything(canary)
    before_app = everything(app)
    for index, member in enumerate(("../../../canary/etc/passwd", "/etc/pulih-test-owned")):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            info = tarfile.TarInfo(member)
            info.size = 5
            archive.addfile(info, io.BytesIO(b"owned"))
        point = f"20261123-03{index:02d}"
        write_point(root / "app", point, {"app.tar.gz": buffer.getvalue()})
        outcome = checked_job(62 + index, backup_server, target_server, root, "app", point,
                              TargetSpec("files", app_dir=str(app)),
                              top / "roots" / "staging").run()
        assert outcome.status == "failed" and outcome.error_code == "backup_unsafe"
        assert f"anggota {member!r}: nama di luar folder aplikasi" in outcome.message
    assert everything(canary) == before_canary
    assert everything(app) == before_app
    assert not Path("/etc/pulih-test-owned").exists()


def test_a_database_name_is_quoted_even_when_it_is_legal_but_unusual(
        backup_server: SshServer) -> None:
    from restore.safety import identifier

    assert identifier("_simpeg_2026") == "_simpeg_2026"
    for bad in ("1abc", "a-b", "a b", "a" * 64, "ünï"):
        with pytest.raises(UnsafeValue):
            identifier(bad)
