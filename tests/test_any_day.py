"""The suite passes on any day of any year: the date-sensitive tests (marked `dates`) run
again, each in a pytest of its own, with the tests' clock at 31 December 23.59 WITA, at
1 January 00.00 WITA and at the last day of February 23.59 WITA (the year after this one,
so a leap year is met in time). Each run keeps its own temporary folders, so this run's
servers are left alone; the three run side by side."""

from __future__ import annotations

import calendar
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.clock import ENV, NOW, WITA

ROOT = Path(__file__).resolve().parents[1]
YEAR = NOW.astimezone(WITA).year
FEBRUARY_END = calendar.monthrange(YEAR + 1, 2)[1]
INSTANTS = {
    "31 Desember 23.59 WITA": datetime(YEAR, 12, 31, 23, 59, tzinfo=WITA),
    "1 Januari 00.00 WITA": datetime(YEAR + 1, 1, 1, 0, 0, tzinfo=WITA),
    f"{FEBRUARY_END} Februari 23.59 WITA": datetime(YEAR + 1, 2, FEBRUARY_END, 23, 59,
                                                     tzinfo=WITA),
}
# The date logic is the same on both databases; PostgreSQL's share of it (the number
# register, the deadlines) already runs in the main run, so these runs keep to SQLite.
SELECTION = "dates and not postgres"


def _pytest_at(moment: datetime, folder: Path) -> subprocess.Popen[str]:
    env = {**os.environ, ENV: moment.isoformat()}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-m", SELECTION, "-p", "no:cacheprovider",
         "--basetemp", str(folder), "tests"],
        cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_the_date_sensitive_tests_pass_at_a_year_end_a_new_year_and_a_month_end(
        tmp_path: Path) -> None:
    runs = {label: _pytest_at(moment, tmp_path / f"run{index}")
            for index, (label, moment) in enumerate(INSTANTS.items())}
    outcomes = {label: run.communicate(timeout=900)[0] for label, run in runs.items()}
    for label, run in runs.items():
        closing = outcomes[label].strip().splitlines()[-1] if outcomes[label].strip() else ""
        assert run.returncode == 0, f"at {label}: {closing}\n{outcomes[label][-6000:]}"
        assert " passed" in closing and "failed" not in closing, f"at {label}: {closing}"
