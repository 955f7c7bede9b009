"""The installed `pulih` command as a process, pointed at a throwaway office."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.office import write_inventory


def office_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a SQLite database, data folder and test inventory in `tmp_path`."""
    return {**os.environ, "PULIH_DATABASE_URL": f"sqlite:///{tmp_path / 'pulih.sqlite3'}",
            "PULIH_DATA_DIR": str(tmp_path / "data"),
            "PULIH_INVENTORY": str(write_inventory(tmp_path / "office")),
            "PULIH_ENV_FILE": str(tmp_path / "absent.env")}


def pulih(env: dict[str, str], *args: str,
          timeout: float = 300) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("pulih")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
