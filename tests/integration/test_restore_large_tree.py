"""The files recipe's verification holds on large trees, run after run: a 1-2 GiB folder of
many files restores and verifies every time, with no false failure. Slow:
`python3 -m pytest -m slow tests/integration/test_restore_large_tree.py` (PULIH_TREE_RUNS
restores, 10 by default)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.demo.lab.sshd import SshServer
from restore.recipes import TargetSpec
from tests.support.backups import sha256, write_point
from tests.support.restoring import checked_job, tree

TOTAL = 1200 * 1024 * 1024  # bytes of file content in the tree


def make_tree(folder: Path, total: int, seed: int = 7) -> int:
    """A web application's folder: thousands of small files in nested folders and a few
    large ones, `total` bytes in all; returns how many files it holds."""
    rng = random.Random(seed)  # noqa: S311 - the same shape of tree every run, not secrecy
    block = os.urandom(1 << 20)
    written = files = 0
    while written < total:
        large = rng.random() < 0.002
        size = min(rng.randrange(1 << 20, 64 << 20) if large else rng.randrange(1, 16 << 10),
                   total - written)
        path = folder / f"modul{rng.randrange(40)}" / f"sub{rng.randrange(25)}" / f"f{files}.dat"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            left, offset = size, rng.randrange(1 << 19)
            out.write(files.to_bytes(8, "big"))  # no two files alike
            while left > 0:
                piece = block[offset:offset + min(left, len(block) - offset)]
                out.write(piece)
                left -= len(piece)
                offset = 0
        written += size
        files += 1
    return files


@pytest.mark.slow
def test_a_large_tree_of_many_files_restores_and_verifies_on_every_run(
        backup_server: SshServer, target_server: SshServer, tmp_path: Path) -> None:
    runs = int(os.environ.get("PULIH_TREE_RUNS", "10"))
    source = tmp_path / "sumber"
    count = make_tree(source, TOTAL)
    assert count > 10_000
    expected = tree(source)
    archive = tmp_path / "web.tar"
    subprocess.run(["tar", "-cf", str(archive), "-C", str(source), "."], check=True)
    shutil.rmtree(source)
    root = tmp_path / "srv-backup"
    point = root / "web" / "20261123-0100"
    point.mkdir(parents=True)
    archive.rename(point / "web.tar")
    write_point(root / "web", "20261123-0100", {}, sums=False)
    (point / "SHA256SUMS").write_text(f"{sha256(point / 'web.tar')}  web.tar\n")
    failures = []
    for run in range(1, runs + 1):
        app = tmp_path / "www" / f"web{run}"
        app.mkdir(parents=True)
        (app / "index.php").write_bytes(b"live")
        outcome = checked_job(200 + run, backup_server, target_server, root, "web",
                              "20261123-0100", TargetSpec("files", app_dir=str(app)),
                              tmp_path / "staging").run()
        if outcome.status != "succeeded" or outcome.verification.get("files") != count:
            failures.append(f"run {run}: {outcome.status}: {outcome.message}")
        elif tree(app) != expected:
            failures.append(f"run {run}: the restored folder differs from the archive")
        shutil.rmtree(app.parent)  # the restored folder and the copy kept for rollback
    assert not failures, f"{len(failures)} of {runs} runs failed:\n" + "\n".join(failures)
