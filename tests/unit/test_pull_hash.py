"""What a target runs to pull its backup (restore.pull.SCRIPT), run here by `sh` with a
local `cat` standing in for the `ssh` to the backup server: the digest it reports is the
file's, whether the target has OpenSSL's command or only coreutils."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from restore.pull import MARK, SCRIPT
from restore.safety import TO, shell

TOOLS = ("sh", "rm", "mkfifo", "tee", "cat", "cut", "sha256sum")


def pulled(tmp_path: Path, with_openssl: bool) -> tuple[str, bytes, int]:
    """Run the script with only `TOOLS` (and openssl, if asked) on its PATH; return what
    it said after its mark, what the import received, and its exit status."""
    tools = tmp_path / ("bin-ssl" if with_openssl else "bin")
    tools.mkdir()
    for name in (*TOOLS, *(("openssl",) if with_openssl else ())):
        found = shutil.which(name)
        assert found is not None, name
        (tools / name).symlink_to(found)
    backup = tmp_path / "backup.sql.gz"
    backup.write_bytes(os.urandom(3 << 20) + b"akhir")
    received = tmp_path / f"received-{with_openssl}"
    run = subprocess.run(
        ["sh", "-c", SCRIPT, "pulih-tarik", str(tmp_path / "tarik.fifo"),
         str(tmp_path / "tarik.sha256"), shell("cat", TO, str(received)), "cat",
         str(backup)],
        capture_output=True, env={"PATH": str(tools)}, check=False)
    said = run.stdout.decode().rsplit(MARK, 1)[-1].split()
    return " ".join(said), received.read_bytes(), run.returncode


@pytest.mark.parametrize("with_openssl", [True, False], ids=["openssl", "sha256sum"])
def test_a_pulled_file_is_hashed_on_the_target_with_or_without_openssl(
        tmp_path: Path, with_openssl: bool) -> None:
    if with_openssl and shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    said, received, status = pulled(tmp_path, with_openssl)
    backup = (tmp_path / "backup.sql.gz").read_bytes()
    assert status == 0
    assert received == backup
    assert said == f"0 {hashlib.sha256(backup).hexdigest()}"
    assert not (tmp_path / "tarik.fifo").exists()
