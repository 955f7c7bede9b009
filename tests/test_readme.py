"""The README's two commands stay true: CI runs the test one, and the first one works."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import venv
from pathlib import Path

from bot.demo.office_lab import unavailable
from tests.support.load import cpu_hog

ROOT = Path(__file__).parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quick)


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in ci_lines


def _fresh_copy(target: Path) -> None:
    """The files a clone would have: tracked and untracked-but-not-ignored ones."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def play_first_command(folder: Path) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """The README's first command in a fresh copy of this checkout, in a new venv, with
    an empty font cache; the run, the copy and the venv."""
    clone = folder / "pulih"
    clone.mkdir(parents=True)
    _fresh_copy(clone)
    env_dir = folder / "venv"
    # System site-packages hold the dependencies already; the venv holds this copy only.
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULIH_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["XDG_CACHE_HOME"] = str(folder / "cache")  # as on a machine that never ran Pulih
    result = subprocess.run(["bash", "-c", readme_commands()[0]], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=600)
    return result, clone, env_dir


def check_full_demo(result: subprocess.CompletedProcess[str], clone: Path) -> None:
    """What a newcomer sees and keeps from a demo that played all it could here."""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Demo selesai. Permohonan PLH-" in result.stdout
    assert "--- layar Kepala Dinas" in result.stdout and "LANGKAH 2" in result.stdout
    assert "PENUGASAN - Tim Teknis" in result.stdout
    demo = clone / "demo"
    assert (demo / "data" / "pulih.sqlite3").is_file()
    assert (demo / "data" / "ssh" / "id_ed25519").stat().st_mode & 0o077 == 0
    issued = sorted(p.name.split("-")[0] for p in (demo / "dokumen").glob("*.pdf"))
    if unavailable() is None:
        # Steps 4-7 ran against the lab: a real check, restore, report and letter.
        assert "menempuh delapan langkah SOP" in result.stdout
        assert "Hasil pemeriksaan backup" in result.stdout and "LULUS" in result.stdout
        assert "BERHASIL dalam" in result.stdout and "Sesuai: 1 tabel, 40 baris" in result.stdout
        assert "basis data SIMPEG sama lagi dengan backup" in result.stdout
        assert "Diterima dan sesuai oleh" in result.stdout
        assert "Status: Selesai, diterima OPD" in result.stdout
        assert issued == ["disposisi", "laporan", "surat_pemberitahuan", "surat_permohonan"]
        assert "acknowledge" in (demo / "jejak-audit.csv").read_text(encoding="utf-8")
        # The lab's servers and their folders are gone with the demo.
        assert not list(Path(tempfile.gettempdir()).glob("pulih-demo-lab-*"))
        assert "pulih-demo-lab" not in subprocess.run(["ps", "-eo", "args"],
                                                      capture_output=True, text=True).stdout
    else:
        assert "Langkah 4-7 (cek backup" in result.stdout and "dilewati" in result.stdout
        assert issued == ["disposisi", "surat_permohonan"]
    assert "document_issued" in (demo / "jejak-audit.csv").read_text(encoding="utf-8")
    assert "TEST-fake-token" not in result.stdout + result.stderr


def test_the_first_command_installs_and_plays_the_demo_on_a_fresh_copy_of_a_busy_machine(
        tmp_path: Path) -> None:
    with cpu_hog():
        result, clone, env_dir = play_first_command(tmp_path)
    check_full_demo(result, clone)
    # The venv's `pulih` is the copy's, not the developer's checkout.
    where = subprocess.run([str(env_dir / "bin" / "python"), "-c",
                            "import bot; print(bot.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, check=True,
                           env={**os.environ, "PATH": f"{env_dir / 'bin'}{os.pathsep}"
                                f"{os.environ['PATH']}"}).stdout
    assert where.startswith(str(clone)), where
