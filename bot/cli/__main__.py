"""`python -m bot.cli`: the `pulih` program."""

import sys

from bot.cli import entry

sys.exit(entry())
