"""A backup larger than 1.5 GiB goes through one SSH connection each way and restores whole."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import pytest

from bot.demo.lab.sshd import SshServer
from restore.recipes import TargetSpec
from tests.support.backups import write_point
from tests.support.restoring import MemoryJournal, checked_job

SIZE = 1536 * 1024 * 1024 + 12345  # just over 1.5 GiB, not a round number of chunks


class RandomStream:
    """Reads like a file of `size` random bytes, hashing what it hands out."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = os.urandom(n)
        self.left -= n
        self.digest.update(data)
        return data


@pytest.mark.slow
def test_a_backup_over_one_and_a_half_gib_restores_without_error(
        backup_server: SshServer, target_server: SshServer, tmp_path: Path) -> None:
    point = tmp_path / "srv-backup" / "arsip" / "20261123-0200"
    point.mkdir(parents=True)
    stream = RandomStream(SIZE)
    with tarfile.open(point / "arsip.tar", "w") as archive:
        info = tarfile.TarInfo("dokumen/arsip-besar.bin")
        info.size = SIZE
        archive.addfile(info, stream)
    expected = stream.digest.hexdigest()
    write_point(point.parent, "20261123-0200", {}, sums=False)
    with (point / "arsip.tar").open("rb") as handle:
        archive_sha = hashlib.file_digest(handle, "sha256").hexdigest()
    (point / "SHA256SUMS").write_text(f"{archive_sha}  arsip.tar\n")
    app = tmp_path / "www" / "arsip"
    app.mkdir(parents=True)
    (app / "lama.txt").write_text("lama")
    journal = MemoryJournal()
    job = checked_job(71, backup_server, target_server, tmp_path / "srv-backup", "arsip",
                      "20261123-0200", TargetSpec("files", app_dir=str(app)),
                      tmp_path / "staging", journal=journal)
    assert job.point.size > 1.5 * 1024 ** 3
    outcome = job.run()
    assert outcome.status == "succeeded", outcome.message
    restored = app / "dokumen" / "arsip-besar.bin"
    assert restored.stat().st_size == SIZE
    with restored.open("rb") as handle:
        assert hashlib.file_digest(handle, "sha256").hexdigest() == expected
    assert sorted(p.name for p in app.iterdir()) == ["dokumen"]
    assert ("transfer", "done", "") in journal.entries
