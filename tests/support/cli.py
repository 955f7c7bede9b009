"""The installed `pulih` command as a process, pointed at a throwaway office."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from tests.support.clock import ENV, NOW
from tests.support.office import write_inventory


def office_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a SQLite database, data folder and test inventory in `tmp_path`."""
    return {**os.environ, "PULIH_DATABASE_URL": f"sqlite:///{tmp_path / 'pulih.sqlite3'}",
            "PULIH_DATA_DIR": str(tmp_path / "data"),
            "PULIH_INVENTORY": str(write_inventory(tmp_path / "office")),
            "PULIH_ENV_FILE": str(tmp_path / "absent.env")}


def clocked(env: dict[str, str], at: datetime = NOW) -> tuple[list[str], dict[str, str]]:
    """The command that starts `pulih` as a process whose clock reads `at` as it starts
    (and runs on), and the environment it needs for that."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return ([sys.executable, "-m", "tests.support.clocked"],
            {**env, ENV: at.isoformat(), "PYTHONPATH": path})


def pulih(env: dict[str, str], *args: str, timeout: float = 300, at: datetime = NOW,
          cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `pulih ARGS` as a process on the tests' clock (starting at `at`)."""
    command, env = clocked(env, at)
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)
