"""`pulih worker`: a restore worker on a host of its own; `pulih queue`: what the restore
queue holds and who works on it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime
from types import FrameType
from typing import TextIO

from bot.bootstrap import Container
from bot.durable.engine import DurableQueue, system_database_url
from bot.render import render_text
from bot.services.restores.listing import queue_view
from bot.services.restores.worker import RestoreWorker, worker_name
from letters.timefmt import waktu
from restore.mux import clear_stale
from restore.parked import close_parked
from restore.transfer_process import close_spare

log = logging.getLogger("pulih.worker")

LABELS = {"queued": "menunggu", "running": "berjalan", "succeeded": "merapikan"}


def worker_commands(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    if args.command == "queue":
        return _queue(c, out)
    return _work(args, c, out, err)


def _queue(c: Container, out: TextIO) -> int:
    zone = c.settings.timezone
    view = queue_view(c)
    seen = {m.executor: waktu(datetime.fromtimestamp(m.seen, UTC), zone)
            for m, _ in view.workers}
    out.write(render_text("cli/queue.txt.j2", zone, rows=view.rows, workers=view.workers,
                          labels=LABELS, seen=seen, at_once=c.settings.restores_at_once))
    return 0


def _work(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    settings = c.settings
    if settings.sqlite_file() is not None:
        print("pulih worker butuh basis data PostgreSQL yang dipakai bersama bot "
              "(PULIH_DATABASE_URL=postgresql+psycopg://...). Dengan SQLite, `pulih run` "
              "sudah menjalankan restore sendiri di satu host.", file=err)
        return 1
    zone = args.zone or settings.worker_zone
    name = worker_name(zone, args.name)
    queue = DurableQueue(system_database_url(settings.database_url, settings.data_dir),
                         limit=settings.restores_at_once, executor=name, zone=zone)
    worker = RestoreWorker(c, queue)
    asked = threading.Event()

    def ask(signum: int, frame: FrameType | None) -> None:
        asked.set()

    previous = {s: signal.signal(s, ask) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        clear_stale()
        worker.start()
        print(f"Worker {name} berjalan (zona {zone or '-'}; paling banyak "
              f"{settings.restores_at_once} restore sekaligus di zona ini); hentikan dengan "
              f"Ctrl+C atau SIGTERM: restore yang sedang berjalan diberi {args.grace} detik "
              "untuk selesai, sisanya diambil alih worker lain.", file=out, flush=True)
        while not asked.wait(1):
            pass
        print(f"Worker {name} berhenti: tidak mengambil restore baru; menunggu yang "
              "berjalan.", file=out, flush=True)
        started = time.monotonic()
        worker.stop(args.grace)
        left = sorted(worker.running)
        if left:
            print(f"Worker {name} berhenti setelah {int(time.monotonic() - started)} detik; "
                  f"restore {', '.join(f'#{r}' for r in left)} belum selesai dan diambil "
                  "alih worker lain.", file=out, flush=True)
            close_spare()
            close_parked()
            # The restores' threads would keep the process alive until they end; the
            # worker that takes them up stops what they left on the target.
            os._exit(0)
        else:
            print(f"Worker {name} berhenti.", file=out, flush=True)
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        close_spare()
        close_parked()
