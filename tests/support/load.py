"""A busy machine for tests that must hold under load: processes that keep every core
spinning at a normal priority until the test is done."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cpu_hog(processes: int | None = None) -> Iterator[None]:
    """One spinning process per core (or `processes`), stopped on leaving."""
    count = processes or os.cpu_count() or 2
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
