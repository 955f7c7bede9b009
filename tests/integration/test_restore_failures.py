"""Everything that can go wrong in a restore leaves live data untouched and says so plainly."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import time
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.demo.lab.sshd import SshServer
from bot.services.office.setup import make_ssh_key
from restore.catalog import BackupFile, BackupSource, RestorePoint, find_point
from restore.engine import Progress, RestoreJob
from restore.recipes import TargetSpec
from tests.support.backups import write_point
from tests.support.restoring import MemoryJournal, checked_job, tree

BIG = 96 * 1024 * 1024


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path, TargetSpec]:
    """A live site and a large (incompressible) backup of it."""
    app = tmp_path / "www" / "portal"
    app.mkdir(parents=True)
    (app / "index.html").write_text("<h1>Portal Kukar</h1>")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        blob = os.urandom(BIG)
        info = tarfile.TarInfo("media/video.bin")
        info.size = len(blob)
        archive.addfile(info, io.BytesIO(blob))
        page = b"<h1>Portal Kukar (backup)</h1>"
        info = tarfile.TarInfo("index.html")
        info.size = len(page)
        archive.addfile(info, io.BytesIO(page))
    root = tmp_path / "srv-backup"
    write_point(root / "portal", "20261123-0200", {"site.tar": buffer.getvalue()})
    return app, root, TargetSpec("files", app_dir=str(app))


def moving(progress: Progress) -> bool:
    """Bytes of the backup are on their way (streaming into the shadow's import)."""
    return bool(progress.total and progress.done)


def unmount(disk: Path) -> None:
    """Unmount a test's small disk; a process of the run may take a moment to let go of it
    (the lock holder on the target ends when its channel's end of input arrives)."""
    deadline = time.monotonic() + 30
    while subprocess.run(["umount", str(disk)], capture_output=True).returncode != 0:
        assert time.monotonic() < deadline, f"{disk} stayed busy"
        time.sleep(0.2)


def untouched(app: Path, before: dict[str, str], staging: Path) -> None:
    assert tree(app) == before
    leftovers = [p.name for p in app.parent.iterdir() if ".pulih-" in p.name]
    assert leftovers == []
    assert not any(staging.glob("*/*")) if staging.exists() else True


def test_a_backup_changed_after_its_check_is_refused_at_the_transfer(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    app, root, spec = site
    before = tree(app)
    job = checked_job(41, backup_server, target_server, root, "portal", "20261123-0200", spec,
                      tmp_path / "staging")
    backup_file = root / "portal" / "20261123-0200" / "site.tar"
    with backup_file.open("r+b") as handle:
        handle.seek(BIG // 2)
        byte = handle.read(1)
        handle.seek(BIG // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    outcome = job.run()
    assert outcome.status == "failed" and outcome.error_code == "checksum_mismatch"
    assert "berubah setelah diperiksa" in outcome.message
    untouched(app, before, tmp_path / "staging")


def test_a_connection_dropped_mid_stream_stops_the_restore_and_its_import(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    app, root, spec = site
    before = tree(app)
    killed: list[int] = []

    def kill_once(progress: Progress) -> None:
        if moving(progress) and not killed:
            killed.append(backup_server.kill_sessions())

    job = checked_job(42, backup_server, target_server, root, "portal", "20261123-0200", spec,
                      tmp_path / "staging", on_progress=kill_once)
    outcome = job.run()
    assert killed and killed[0] >= 1
    assert outcome.status == "failed" and outcome.error_code == "connection_lost"
    assert "terputus" in outcome.message and "Data live tidak disentuh" in outcome.message
    untouched(app, before, tmp_path / "staging")
    assert not importing(job.tag)


def importing(tag: str) -> bool:
    """Whether a process of the run's import is still on the (loopback) target."""
    return subprocess.run(["pgrep", "-f", f"{tag}-impor[t]"]).returncode == 0


def test_cancelling_mid_stream_stops_the_import_cleans_up_and_touches_nothing(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    app, root, spec = site
    before = tree(app)
    journal = MemoryJournal()
    job = checked_job(43, backup_server, target_server, root, "portal", "20261123-0200", spec,
                      tmp_path / "staging", journal=journal)
    seen: list[int] = []

    def cancel_early(progress: Progress) -> None:
        if progress.done:
            seen.append(progress.done)
            job.cancel.set()

    job.on_progress = cancel_early
    outcome = job.run()
    assert outcome.status == "cancelled" and "dibatalkan" in outcome.message
    assert "Data live tidak disentuh (diperiksa ulang: folder " in outcome.message
    assert seen and seen[0] < BIG
    assert ("apply", "done", "") not in journal.entries
    untouched(app, before, tmp_path / "staging")
    assert not importing(job.tag)


def test_live_data_changed_by_someone_else_during_a_failed_restore_is_reported_not_denied(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    app, root, spec = site
    job = checked_job(47, backup_server, target_server, root, "portal", "20261123-0200", spec,
                      tmp_path / "staging")

    def meddle(progress: Progress) -> None:
        if moving(progress) and not job.cancel.is_set():
            (app / "index.html").rename(app / "index.lama")
            job.cancel.set()

    job.on_progress = meddle
    outcome = job.run()
    assert outcome.status == "cancelled"
    assert "tidak disentuh (diperiksa" not in outcome.message
    assert "PERHATIAN: data live berubah selama restore" in outcome.message
    assert "hilang: isi index.html; baru: isi index.lama" in outcome.message


def test_a_target_disk_that_fills_during_the_import_is_said_and_a_retry_succeeds(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    _, root, _ = site
    disk = tmp_path / "disk-kecil"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(disk)], check=True)
    try:
        app = disk / "portal"
        app.mkdir()
        (app / "index.html").write_text("<h1>Portal Kukar</h1>")
        before = tree(app)
        spec = TargetSpec("files", app_dir=str(app))
        job = checked_job(48, backup_server, target_server, root, "portal", "20261123-0200",
                          spec, tmp_path / "staging")
        filled: list[bool] = []

        def someone_else_fills_it(progress: Progress) -> None:
            if moving(progress) and not filled:
                filled.append(True)
                with suppress(OSError), (disk / "lain.bin").open("wb") as other:
                    for _ in range(160):
                        other.write(bytes(1 << 20))

        job.on_progress = someone_else_fills_it
        outcome = job.run()
        assert filled and outcome.status == "failed", outcome.message
        assert outcome.error_code == "not_enough_space", outcome.message
        assert f"Disk penuh di {target_server.endpoint().label}" in outcome.message
        assert "No space left on device" in outcome.message
        assert "terputus" not in outcome.message
        assert tree(app) == before
        assert sorted(p.name for p in disk.iterdir()) == ["lain.bin", "portal"]  # no shadow
        # Room made again, the same restore goes through.
        (disk / "lain.bin").unlink()
        again = checked_job(49, backup_server, target_server, root, "portal", "20261123-0200",
                            spec, tmp_path / "staging")
        done = again.run()
        assert done.status == "succeeded", done.message
        assert (app / "index.html").read_text() == "<h1>Portal Kukar (backup)</h1>"
    finally:
        unmount(disk)


def test_a_target_with_room_for_the_shadow_but_not_for_a_staged_copy_too_is_restored(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    """The backup is never copied whole to the target: a disk with room for one copy of
    the data (the shadow) is enough, where staging plus shadow would need two."""
    _, root, _ = site
    size = 160 << 20
    assert BIG < size < 2 * BIG  # one copy fits, two do not
    disk = tmp_path / "disk-kecil"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
                   check=True)
    try:
        app = disk / "www" / "portal"
        app.mkdir(parents=True)
        (app / "index.html").write_text("<h1>Portal Kukar</h1>")
        journal = MemoryJournal()
        job = checked_job(50, backup_server, target_server, root, "portal", "20261123-0200",
                          TargetSpec("files", app_dir=str(app)), disk / "staging",
                          journal=journal)
        outcome = job.run()
        assert outcome.status == "succeeded", outcome.message
        assert (app / "index.html").read_text() == "<h1>Portal Kukar (backup)</h1>"
        assert (app / "media" / "video.bin").stat().st_size == BIG
        assert not any(e[0] == "transfer" for e in journal.entries)
        assert not list((disk / "staging").glob("50_*/*"))
    finally:
        unmount(disk)


def test_a_changed_target_host_key_is_refused_before_anything_happens(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    app, root, spec = site
    before = tree(app)
    job = checked_job(44, backup_server, target_server, root, "portal", "20261123-0200", spec,
                      tmp_path / "staging")
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{target_server.port} {backup_server.host_public}\n")
    job.target = replace(job.target, known_hosts=wrong)
    outcome = job.run()
    assert outcome.status == "failed" and outcome.error_code == "host_key_changed"
    assert "BERBEDA" in outcome.message
    # Nothing was looked at on the target, so nothing about its data is claimed.
    assert outcome.message.endswith("Pulih belum mengubah apa pun di server tujuan.")
    assert "tidak disentuh" not in outcome.message
    untouched(app, before, tmp_path / "staging")


def test_a_key_the_target_refuses_is_a_clear_failure(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    app, root, spec = site
    before = tree(app)
    job = checked_job(45, backup_server, target_server, root, "portal", "20261123-0200", spec,
                      tmp_path / "staging")
    stranger = tmp_path / "stranger"
    make_ssh_key(stranger)
    job.target = replace(job.target, key_path=stranger)
    outcome = job.run()
    assert outcome.status == "failed" and outcome.error_code == "auth_failed"
    assert "ditolak" in outcome.message
    untouched(app, before, tmp_path / "staging")


def test_not_enough_free_disk_is_found_before_the_transfer(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    app, root, spec = site
    before = tree(app)
    huge = 1 << 50  # a petabyte: more than any disk here
    point = RestorePoint("20261123-0200", datetime(2026, 11, 22, 18, tzinfo=UTC),
                         str(root / "portal" / "20261123-0200"),
                         (BackupFile("site.tar", huge, datetime.now(UTC)),), ("SHA256SUMS",))
    journal = MemoryJournal()
    job = RestoreJob(46, target_server.endpoint(), backup_server.endpoint(), spec, point,
                     {"site.tar": "0" * 64}, {}, journal, staging_root=str(tmp_path / "staging"))
    outcome = job.run()
    assert outcome.status == "failed" and outcome.error_code == "not_enough_space"
    assert "Ruang disk" in outcome.message and "tidak cukup" in outcome.message
    assert not any(phase in ("transfer", "apply") for phase, _, _ in journal.entries)
    untouched(app, before, tmp_path / "staging")


def test_a_point_removed_after_its_check_fails_the_restore_before_anything_changes(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path, TargetSpec],
        tmp_path: Path) -> None:
    """The run finds its point on the backup server over its own connection; gone since
    the check, it says so, and the target is left as it was."""
    app, root, spec = site
    before = tree(app)
    source = BackupSource(str(root), "portal")
    shutil.rmtree(root / "portal" / "20261123-0200")
    journal = MemoryJournal()
    job = RestoreJob(47, target_server.endpoint(), backup_server.endpoint(), spec,
                     lambda remote: find_point(remote, source, "20261123-0200"),
                     {"site.tar": "0" * 64}, {}, journal, staging_root=str(tmp_path / "staging"))
    outcome = job.run()
    assert outcome.status == "failed" and outcome.error_code == "backup_invalid"
    assert outcome.message == ("Titik backup 20261123-0200 tidak ditemukan di "
                               f"{backup_server.endpoint().label}. Pulih belum mengubah apa "
                               "pun di server tujuan.")
    assert not any(phase in ("preflight", "transfer", "apply") and status == "started"
                   for phase, status, _ in journal.entries)
    untouched(app, before, tmp_path / "staging")
