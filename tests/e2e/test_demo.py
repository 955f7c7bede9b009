"""`pulih demo` where the lab cannot run: steps 1-3 are played and the newcomer is told
what steps 4-7 need. (The full demo runs in tests/test_readme.py, from a fresh copy.)"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.demo.lab import mariadb, sshd
from bot.demo.lab.loopback import missing
from bot.demo.office_lab import latest_point, unavailable
from bot.demo.play import run_demo

ROOT = Path(__file__).parents[2]
WITA = ZoneInfo("Asia/Makassar")


def test_without_mariadb_the_demo_plays_steps_1_to_3_and_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "kosong"))
    monkeypatch.setattr("bot.demo.lab.loopback.SYSTEM_BIN", ())
    reason = unavailable()
    assert reason is not None and "mariadbd" in reason
    assert "apt-get install openssh-server openssh-client mariadb-server" in reason
    out = io.StringIO()
    assert run_demo(tmp_path / "demo", ROOT / "inventory.example.toml", out) == 0
    shown = out.getvalue()
    assert "PENUGASAN - Tim Teknis" in shown
    assert "sampai di Tim Teknis (langkah 3)" in shown
    assert f"Langkah 4-7 (cek backup, restore lewat SSH, laporan, pemberitahuan) dilewati: " \
           f"{reason}." in shown
    assert "Cek backup" in shown  # the team's button is there, for a real deployment
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "demo" / "dokumen").iterdir()) \
        == ["disposisi", "surat_permohonan"]


def test_the_demo_backup_is_the_last_2_oclock_office_time() -> None:
    # 13.09 WITA: this morning's; 01.30 WITA: yesterday's.
    assert latest_point(datetime(2026, 11, 24, 5, 9, tzinfo=UTC), WITA) == "20261124-0200"
    assert latest_point(datetime(2026, 11, 23, 17, 30, tzinfo=UTC), WITA) == "20261123-0200"
    assert latest_point(datetime(2026, 11, 23, 18, 0, tzinfo=UTC), WITA) == "20261124-0200"


def test_a_normal_users_path_without_sbin_still_finds_the_installed_servers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A normal user's PATH has no /usr/sbin, where Debian puts sshd and mariadbd; the lab
    looks there too, and needs no root (tests/test_readme.py plays it as such a user)."""
    if missing((*sshd.TOOLS, *mariadb.TOOLS)):
        pytest.skip("OpenSSH and MariaDB are not installed here")
    monkeypatch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert unavailable() is None
