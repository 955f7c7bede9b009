"""The package as an office installs it: the wheel (not this checkout) in a fresh venv,
then `pulih init`, `pulih doctor` and `pulih demo` in an empty folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo.office_lab import unavailable

ROOT = Path(__file__).parents[1]


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 900
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_the_wheel_in_a_fresh_venv_inits_checks_and_plays_the_demo_from_an_empty_folder(
        tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                  str(ROOT)], tmp_path, dict(os.environ))
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("pulih-*.whl")
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], tmp_path,
                dict(os.environ)).returncode == 0
    env = {"PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path),
           "LANG": "C.UTF-8", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    installed = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c",
                      str(ROOT / "requirements.lock"), str(wheel)], tmp_path, env)
    assert installed.returncode == 0, installed.stderr[-3000:]
    where = _run([str(venv / "bin" / "python"), "-c", "import bot; print(bot.__file__)"],
                 tmp_path, env)
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel, not this checkout

    office = tmp_path / "kantor"
    office.mkdir()
    init = _run(["pulih", "init"], office, env)
    assert init.returncode == 0, init.stderr
    assert "dibuat : .env" in init.stdout and "dibuat : inventory.toml" in init.stdout
    assert "Langkah berikutnya:" in init.stdout and "pulih doctor" in init.stdout
    assert (office / ".env").stat().st_mode & 0o077 == 0

    doctor = _run(["pulih", "doctor"], office, env)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr  # warnings, no failure
    assert "WARN server: tidak dihubungi: inventaris masih contoh" in doctor.stdout
    assert "OK   basis data: sqlite" in doctor.stdout and "FAIL" not in doctor.stdout

    # The extra for PostgreSQL is not installed: one line says how to add it.
    postgres = _run(["pulih", "requests", "list"], office,
                    {**env, "PULIH_DATABASE_URL": "postgresql://pulih@127.0.0.1/pulih"})
    assert (postgres.returncode, postgres.stdout) == (1, "")
    assert postgres.stderr == ("PULIH_DATABASE_URL: PostgreSQL butuh paket psycopg yang belum "
                               "terpasang; pasang: python3 -m pip install 'pulih[postgres]'\n")

    elsewhere = tmp_path / "di-mana-saja"
    elsewhere.mkdir()
    demo = _run(["pulih", "demo"], elsewhere, env)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "Demo selesai. Permohonan PLH-" in demo.stdout
    issued = sorted(p.name.split("-")[0] for p in (elsewhere / "demo" / "dokumen").glob("*.pdf"))
    if unavailable() is None:
        assert issued == ["disposisi", "laporan", "surat_pemberitahuan", "surat_permohonan"]
    else:
        assert issued == ["disposisi", "surat_permohonan"]
