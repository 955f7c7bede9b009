"""argparse, speaking Indonesian: usage, help and the errors of bad usage."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn

# argparse's English sentences (Python 3.11-3.13) and what a user reads instead.
_ERRORS: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern), words) for pattern, words in (
    (r"^the following arguments are required: (.+)$", r"argumen wajib belum diisi: \1"),
    (r"^unrecognized arguments: (.+)$", r"argumen tidak dikenal: \1"),
    (r"^argument (\S+): invalid choice: (.+?) \(choose from (.+)\)$",
     r"\1: pilihan \2 tidak dikenal; pilihan yang ada: \3"),
    (r"^argument (\S+): invalid int value: (.+)$", r"\1: \2 bukan bilangan bulat"),
    (r"^argument (\S+): invalid \S+ value: (.+)$", r"\1: nilai \2 tidak sah"),
    (r"^argument (\S+): expected one argument$", r"\1: butuh satu nilai"),
    (r"^argument (\S+): expected at least one argument$", r"\1: butuh sedikitnya satu nilai"),
    (r"^argument (\S+): expected at most one argument$", r"\1: paling banyak satu nilai"),
    (r"^argument (\S+): not allowed with argument (\S+)$", r"\1 tidak boleh bersama \2"),
    (r"^argument (\S+): ignored explicit argument (.+)$", r"\1: tidak menerima nilai \2"),
    (r"^one of the arguments (.+) is required$", r"salah satu dari \1 wajib diisi"),
    (r"^ambiguous option: (\S+) could match (.+)$", r"opsi \1 tidak jelas; bisa \2"),
    (r"^argument (\S+): (.+)$", r"\1: \2"),
)]


def indonesian(message: str) -> str:
    """argparse's error sentence, in Indonesian (unknown ones are kept as they are)."""
    for pattern, words in _ERRORS:
        if pattern.match(message):
            return pattern.sub(words, message)
    return message


def program_version() -> str:
    try:
        return version("pulih")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "tidak terpasang"


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[argparse._MutuallyExclusiveGroup],
                  prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "pemakaian: " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose every word a user reads is Indonesian; its subcommands are
    made the same way (argparse builds them from the parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "argumen"
        self._optionals.title = "opsi"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="tampilkan bantuan ini lalu keluar")

    def command(self, commands: argparse._SubParsersAction[Parser], name: str,
                text: str) -> Parser:
        """A subcommand whose one-line description shows both in the list and its help."""
        made: Parser = commands.add_parser(name, help=text, description=text)
        return made

    def commands(self, dest: str) -> argparse._SubParsersAction[Parser]:
        return self.add_subparsers(dest=dest, required=True, metavar="PERINTAH",
                                   title="perintah")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {indonesian(message)}\n"
                     f"Bantuan: {self.prog} --help\n")
