"""`pulih` as a process on the tests' clock: `python -m tests.support.clocked ARGS...` runs
the command line (`bot.cli.entry`, what the `pulih` script runs) with a clock that starts
at the instant in PULIH_TEST_CLOCK and runs on from there."""

from __future__ import annotations

import sys

from bot.cli import entry
from tests.support.clock import running, start_of_run

if __name__ == "__main__":
    sys.exit(entry(sys.argv[1:], clock=running(start_of_run())))
