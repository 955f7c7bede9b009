"""`pulih demo` holds on a busy machine, run after run: the README's first command from a
fresh copy with an empty font cache and every core kept busy, PULIH_DEMO_RUNS times
(20 by default). Slow: `python3 -m pytest -m slow tests/test_demo_loop.py`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.load import cpu_hog
from tests.test_readme import check_full_demo, play_first_command


@pytest.mark.slow
def test_the_demo_passes_every_run_on_a_busy_machine_with_an_empty_font_cache(
        tmp_path: Path) -> None:
    runs = int(os.environ.get("PULIH_DEMO_RUNS", "20"))
    failures = []
    with cpu_hog():
        for run in range(1, runs + 1):
            result, clone, _ = play_first_command(tmp_path / f"run{run}")
            try:
                check_full_demo(result, clone)
            except AssertionError:
                # What the newcomer saw last, not the assertion's long repr.
                failures.append(f"run {run} (exit {result.returncode}):\n"
                                f"{result.stdout[-1200:]}\n{result.stderr[-1500:]}")
    assert not failures, f"{len(failures)} of {runs} runs failed:\n" + "\n".join(failures)
