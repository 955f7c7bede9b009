"""`pulih self-backup` and `pulih self-restore`: Pulih's own records, kept and put back."""

from __future__ import annotations

import argparse
from typing import TextIO

from bot.bootstrap import Container
from bot.render import render_text
from bot.services.office.self_backup import (
    MANIFEST,
    SUMS,
    backup_root,
    self_backup,
    self_restore,
)

CONFIRM = "PULIHKAN"


def self_backup_commands(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO,
                         stdin: TextIO) -> int:
    zone = c.settings.timezone
    if args.command == "self-backup":
        result = self_backup(c.settings, c.clock())
        out.write(render_text("cli/self_backup.txt.j2", zone, result=result))
        return 0
    folder = args.folder if args.folder.is_dir() else args.folder.parent
    if not (folder / SUMS).is_file() or not (folder / MANIFEST).is_file():
        print(f"{args.folder} bukan cadangan Pulih (tidak ada {SUMS} dan {MANIFEST}); "
              f"cadangan ada di {backup_root(c.settings)}", file=err)
        return 1
    live = c.settings.sqlite_file()
    in_use = live.is_file() if live is not None else True
    if in_use and not args.yes:
        print(f"Basis data yang sedang dipakai akan diganti isi cadangan {folder.name} "
              "(yang lama disimpan di sampingnya, tidak dihapus). Hentikan `pulih run` "
              f"dulu. Ketik {CONFIRM} untuk melanjutkan:", file=out, flush=True)
        if stdin.readline().strip() != CONFIRM:
            print("Dibatalkan; tidak ada yang diubah.", file=err)
            return 1
    c.engine.dispose()  # PostgreSQL renames only a database no one is connected to
    counts, kept = self_restore(c.settings, folder, c.clock())
    out.write(render_text("cli/self_restore.txt.j2", zone, folder=folder, counts=counts,
                          kept=kept))
    return 0

