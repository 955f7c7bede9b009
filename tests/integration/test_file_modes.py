"""What Pulih writes is its own user's alone: the database, the data folder, the SSH key
and the documents it prints are created readable by no one else, whatever the umask of
the shell that started it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.support.cli import pulih

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_and_printed_documents_are_private_to_pulihs_user(tmp_path: Path) -> None:
    office = tmp_path / "kantor"
    office.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULIH_")}
    env.update(PULIH_DATA_DIR=str(office / "data"),
               PULIH_INVENTORY=str(office / "inventory.toml"),
               PULIH_ENV_FILE=str(office / "tidak-ada.env"))
    old = os.umask(0o022)  # a usual shell: files 0644, folders 0755
    try:
        made = pulih(env, "init", cwd=office)
        assert made.returncode == 0, made.stderr
        printed = pulih(env, "letters", "render", "semua", "--sample", "--out",
                        str(office / "contoh"), cwd=office)
        assert printed.returncode == 0, printed.stderr
    finally:
        os.umask(old)
    data = office / "data"
    assert _mode(data) == 0o700
    assert _mode(data / "pulih.sqlite3") == 0o600
    assert _mode(data / "ssh" / "id_ed25519") == 0o600
    assert _mode(office / "contoh") == 0o700
    pdfs = sorted((office / "contoh").glob("*.pdf"))
    assert len(pdfs) == 4 and {_mode(pdf) for pdf in pdfs} == {0o600}
