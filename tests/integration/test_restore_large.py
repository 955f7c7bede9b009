"""A 2 GiB backup streams into the shadow five times in a row, whole each time: through
`ssh` processes and through paramiko (whose own rekey after 512 MiB once stalled a copy
here), one SSH connection each way."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from bot.demo.lab.sshd import SshServer
from restore.catalog import RestorePoint
from restore.engine import STREAMED
from restore.recipes import TargetSpec
from tests.support.backups import write_point
from tests.support.restoring import MemoryJournal, checked_job

SIZE = 2048 * 1024 * 1024 + 12345  # just over 2 GiB, not a round number of chunks
ROUNDS = 5


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


@pytest.mark.slow  # about three minutes
def test_a_two_gib_backup_streams_into_the_shadow_five_times_in_a_row(
        backup_server: SshServer, target_server: SshServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
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
    checked = checked_job(71, backup_server, target_server, tmp_path / "srv-backup", "arsip",
                          "20261123-0200", TargetSpec("files", app_dir=str(app)),
                          tmp_path / "staging")
    assert isinstance(checked.point, RestorePoint) and checked.point.size > 2 * 1024 ** 3
    for round_ in range(ROUNDS):
        # Odd rounds carry the bytes in paramiko, as where no OpenSSH client is installed.
        paramiko_only = round_ % 2 == 1
        monkeypatch.setenv("PULIH_SSH_BYTES", "paramiko" if paramiko_only else "otomatis")
        journal = MemoryJournal()
        job = replace(checked, run_id=71 + round_, journal=journal, tag="", uid="")
        outcome = job.run()
        assert outcome.status == "succeeded", (round_, outcome.message)
        assert ("apply", "note", STREAMED) in journal.entries
        carrier = "paramiko" if paramiko_only else "ssh"
        assert ("apply", "note", f"dibawa oleh {carrier}") in journal.entries
        assert not any(phase == "transfer" for phase, _, _ in journal.entries)
        restored = app / "dokumen" / "arsip-besar.bin"
        assert restored.stat().st_size == SIZE
        with restored.open("rb") as handle:
            assert hashlib.file_digest(handle, "sha256").hexdigest() == expected
        assert sorted(p.name for p in app.iterdir()) == ["dokumen"]
        for kept in app.parent.glob("arsip.pulih-rb-*"):  # room for the next round
            shutil.rmtree(kept)
