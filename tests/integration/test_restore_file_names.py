"""Application folders whose file names hold any byte a name may hold restore exactly and
verify, whatever locale the target's SSH session runs in."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo.lab.sshd import SshServer, ssh_server
from restore.recipes import TargetSpec
from tests.support.backups import write_point
from tests.support.restoring import checked_job

# Several scripts, emoji, spaces, a newline, a tab, leading dashes, a backslash, quotes,
# shell words and names that are not UTF-8 at all.
ODD_NAMES = [
    "ñandú 🌴 وزارة.txt".encode(), "dokumen 0 – ñ.pdf".encode(), "漢字/Кириллица/हिन्दी.md".encode(),
    b"baris\nbaru.txt", b"tab\tdi tengah", b"-rf", b"--yes", b"- spasi", b" awal spasi",
    b"akhir spasi ", b"garis\\miring", b"kutip 'satu' \"dua\"", b"$(id) `id` ;|&.sh",
    b"bukan-utf8-\xff\xfe.bin", b"latin1-caf\xe9.txt", b"folder-\xc3/\x80isi", b"*?[a].txt",
]


def tree_bytes(folder: Path) -> dict[bytes, bytes]:
    """Every file and link under `folder` by its name's bytes: content, or link target."""
    found: dict[bytes, bytes] = {}
    root = os.fsencode(folder)
    for here, _dirs, files in os.walk(root):
        for name in [*files, *(d for d in _dirs if os.path.islink(os.path.join(here, d)))]:
            path = os.path.join(here, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                found[relative] = b"-> " + os.readlink(path)
            else:
                with open(path, "rb") as f:
                    found[relative] = f.read()
    return found


def manifest_digest(files: dict[bytes, bytes]) -> str:
    """tree_sha256 as the README tells a backup job to compute it, written out again here:
    `sha256sum` lines of every file (a link: `symlink`, NUL, its target), sorted by name."""
    lines = []
    for name, content in files.items():
        data = b"symlink\0" + content[3:] if content.startswith(b"-> ") else content
        lines.append((name, hashlib.sha256(data).hexdigest().encode() + b"  " + name + b"\n"))
    return hashlib.sha256(b"".join(line for _, line in sorted(lines))).hexdigest()


@pytest.fixture(params=["C", "C.UTF-8"])
def target_in_locale(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """The agency's VPS, its SSH sessions running in the given locale."""
    locale = request.param
    with ssh_server(tmp_path_factory.mktemp("sshd-locale"), f"vps-{locale}",
                    env={"LANG": locale, "LC_ALL": locale}) as server:
        yield server


@pytest.mark.parametrize("tar_format", ["gnu", "pax"])
def test_file_names_of_any_bytes_restore_and_verify_under_any_target_locale(
        backup_server: SshServer, target_in_locale: SshServer, tmp_path: Path,
        tar_format: str) -> None:
    source = tmp_path / "arsip-sumber"
    for index, name in enumerate(ODD_NAMES):
        path = os.path.join(os.fsencode(source), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(b"isi %d: " % index + name)
    os.symlink(b"\xe6\xbc\xa2\xe5\xad\x97", os.path.join(os.fsencode(source), b"tautan \xff"))
    expected = tree_bytes(source)
    # The archive as a backup job's `tar` writes it, with the locale of the backup host.
    archive = tmp_path / "web.tar.gz"
    subprocess.run(["tar", f"--format={tar_format}", "-czf", str(archive), "-C", str(source),
                    "."], check=True, env={**os.environ, "LC_ALL": "C.UTF-8"})
    root = tmp_path / "srv-backup"
    point = write_point(root / "web", "20261123-0100", {"web.tar.gz": archive.read_bytes()})
    (point / "manifest.json").write_text(json.dumps({"tree_sha256": manifest_digest(expected)}))
    app = tmp_path / "www" / "web"
    app.mkdir(parents=True)
    (app / "index.php").write_bytes(b"live")
    spec = TargetSpec("files", app_dir=str(app))

    outcome = checked_job(91, backup_server, target_in_locale, root, "web", "20261123-0100",
                          spec, tmp_path / "staging").run()

    assert outcome.status == "succeeded", outcome.message
    assert outcome.verification["compared_with_manifest"] is True
    assert outcome.verification["files"] == len(expected)
    assert tree_bytes(app) == expected
