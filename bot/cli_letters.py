"""`pulih letters ...`: the office's documents from a terminal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from bot.bootstrap import Container
from bot.render import render_text
from bot.services.documents import KINDS, verify_bytes, verify_code


def add_letters_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    letters = commands.add_parser("letters", help="dokumen resmi (surat, disposisi, laporan)")
    sub = letters.add_subparsers(dest="letters_command", required=True)
    verify = sub.add_parser("verify", help="periksa keaslian dokumen terbitan Pulih")
    verify.add_argument("file", nargs="?", type=Path, help="berkas PDF yang diperiksa")
    verify.add_argument("--code", help="kode verifikasi yang tercetak di dokumen")


def letters_commands(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    if (args.file is None) == (args.code is None):
        print("Sebutkan berkas PDF atau --code KODE (salah satu).", file=err)
        return 2
    with c.sessions() as session:
        if args.file is not None:
            try:
                content = args.file.read_bytes()
            except OSError as exc:
                print(f"{args.file}: tidak dapat dibaca ({exc.strerror}).", file=err)
                return 1
            result = verify_bytes(session, content)
        else:
            result = verify_code(session, args.code)
        text = render_text("cli/letters_verify.txt.j2", c.settings.timezone, result=result,
                           kinds=KINDS, source=str(args.file or args.code))
    (out if result.genuine else err).write(text)
    return 0 if result.genuine else 1
