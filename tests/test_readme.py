"""The README's two commands stay true: CI runs the test one, and the first one works."""

from __future__ import annotations

import contextlib
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
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


@contextlib.contextmanager
def throwaway_user() -> Iterator[str]:
    """A new, unprivileged account with a home folder (removed afterwards, with anything
    it left running); the Python this test runs on is made reachable for it meanwhile
    (a pyenv under /root is not, by default)."""
    name = f"pulihuji{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
    opened = []
    for folder in [*reversed(Path(sys.base_prefix).parents), Path(sys.base_prefix)]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            opened.append((folder, mode))
    try:
        yield name
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
        for folder, mode in opened:
            folder.chmod(stat.S_IMODE(mode))


def play_first_command(folder: Path) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """The README's first command played by a new, unprivileged user, in a fresh copy of
    this checkout in their home folder, in a new venv, with an empty font cache; the run,
    the copy and the venv."""
    with throwaway_user() as user:
        home = Path(pwd.getpwnam(user).pw_dir)
        work = home / "uji"
        clone = work / "pulih"
        clone.mkdir(parents=True)
        _fresh_copy(clone)
        subprocess.run(["chown", "-R", f"{user}:", str(work)], check=True)
        env_dir = work / "venv"

        def as_user(command: list[str], cwd: Path, timeout: float
                    ) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["runuser", "-u", user, "--", "env", "-i", f"HOME={home}", f"USER={user}",
                 f"PATH={env_dir / 'bin'}:/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
                 "PIP_DISABLE_PIP_VERSION_CHECK=1",
                 f"XDG_CACHE_HOME={work / 'cache'}",  # as on a machine that never ran Pulih
                 *command], cwd=cwd, capture_output=True, text=True, timeout=timeout)

        # System site-packages hold the dependencies already; the venv holds this copy.
        made = as_user([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)],
                       work, 120)
        assert made.returncode == 0, made.stderr
        result = as_user(["bash", "-c", readme_commands()[0]], clone, 600)
        # The venv's `pulih` is the copy's, not the developer's checkout.
        where = as_user(["python", "-c", "import bot; print(bot.__file__)"], work, 60).stdout
        assert where.startswith(str(clone)), where
        # What the checks read stays where the caller looks (the account goes).
        kept = folder / "pulih"
        shutil.copytree(clone, kept, symlinks=True)
        shutil.copytree(env_dir, folder / "venv", symlinks=True)
    return result, kept, folder / "venv"


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


def test_a_normal_user_installs_and_plays_all_eight_steps_on_a_fresh_copy_of_a_busy_machine(
        tmp_path: Path) -> None:
    """The README's first command, typed by a new account without root: where OpenSSH
    and MariaDB are installed, the demo plays all eight steps (the lab stages in its own
    folder and reaches its MariaDB as that user)."""
    with cpu_hog():
        result, clone, _ = play_first_command(tmp_path)
    check_full_demo(result, clone)
