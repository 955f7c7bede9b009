"""A restore worker: the part of a process that takes restores from the queue
(bot.durable) and carries them out. The bot runs one inside (`pulih run`, the single-host
default); `pulih worker` runs one alone, on any host that reaches the shared PostgreSQL.

It shares what it does through the database (bot.services.restores.progress), keeps its
place in the roster (bot.services.restores.workers), and takes up the restores of a
worker of its zone that went silent: cleaned up on the target and begun again, or, when
the restored data was already live, settled for the team to check (runs.take_back)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.bootstrap import Container
from bot.durable.engine import POSTPONED, SETTLED, DurableQueue
from bot.services.restores.progress import SharedProgress, cancels_asked
from bot.services.restores.runs import (
    RunEnd,
    RunTicket,
    execute,
    queue_place,
    stranded_runs,
    take_back,
    take_queued,
)
from bot.services.restores.teamwork import after_interruption, after_run
from bot.services.restores.workers import (
    Member,
    beat,
    beat_every,
    claim_gone,
    gone_workers,
    join,
    leave,
)
from restore.engine import Outcome, Progress
from restore.errors import RestoreError

log = logging.getLogger("pulih.worker")

AGAIN_MAX = 3  # times a stranded restore is put in line again before it is left to recovery


@dataclass
class Watcher:
    """A watcher in this process of a run (the chat's progress message): what the worker
    tells it directly, rather than through the database."""

    cancel: threading.Event
    on_progress: Callable[[Progress], None]
    then: RunEnd
    on_settled: Callable[[Outcome], None]
    on_end: Callable[[Outcome | BaseException], None]


BOT_WORKER = "local"  # the bot's own worker (DBOS's name for a lone process)


def worker_name(zone: str | None, name: str | None = None) -> str:
    """A worker's name in the queue and the roster: stable across restarts of the same
    worker (its cut-off restores are then its own to take up)."""
    return name or f"{socket.gethostname()}{'@' + zone if zone else ''}"


class RestoreWorker:
    def __init__(self, c: Container, queue: DurableQueue, *,
                 watcher: Callable[[int], Watcher | None] = lambda run_id: None,
                 postpone: Callable[[], bool] = lambda: False) -> None:
        self.c, self.queue = c, queue
        self.watcher, self.postpone = watcher, postpone
        self.member = Member(queue.executor, queue.zone, socket.gethostname(), os.getpid(),
                             time.time(), time.time())
        self.running: dict[int, threading.Event] = {}
        self.requeued: dict[int, int] = {}  # stranded runs put in line again, how often
        self.halt = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.member.executor

    def start(self) -> None:
        """Join the roster and take work (blocking: DBOS launches)."""
        join(self.c, self.member)
        self.queue.start(self.carry)
        self.thread = threading.Thread(target=self._keep, name="pulih-worker", daemon=True)
        self.thread.start()

    def stop(self, grace: int = 0) -> None:
        """Take no more work; what runs here may finish within `grace` seconds; what is
        still running then is left for another worker (or this one's next start)."""
        self.halt.set()
        self.queue.stop(grace)
        if self.thread is not None:
            self.thread.join(timeout=10)
        try:
            leave(self.c, self.name, unfinished=bool(self.running))
        except Exception:
            log.warning("worker %s tidak dapat keluar dari daftar", self.name, exc_info=True)

    def carry(self, run_id: int) -> str:
        """A queued run's turn (in one of the queue's threads): carried out here to its
        end; or, when this is a recovery of a run begun by a worker now gone, taken back."""
        if self.postpone():
            return POSTPONED
        watcher = self.watcher(run_id)
        cancel = watcher.cancel if watcher is not None else threading.Event()
        self.running[run_id] = cancel  # from its turn on: never swept up as stranded
        try:
            return self._carry(run_id, watcher, cancel)
        finally:
            self.running.pop(run_id, None)

    def _carry(self, run_id: int, watcher: Watcher | None, cancel: threading.Event) -> str:
        try:
            ticket: RunTicket | Outcome | None = take_queued(self.c, run_id, self.name)
            if ticket is None:
                ticket = take_back(self.c, run_id, self.name, gone_workers(self.c),
                                   watcher.then if watcher else after_run(self.c),
                                   after_interruption(self.c))
        except BaseException as exc:
            if watcher is not None:
                watcher.on_end(exc)
            raise
        if isinstance(ticket, Outcome):  # finished here after its worker's swap
            if watcher is not None:
                watcher.on_end(ticket)
            return ticket.status
        if ticket is None:  # settled meanwhile (cancelled while waiting; recovery)
            if watcher is not None:
                watcher.on_end(RestoreError(f"Restore #{run_id} tidak lagi menunggu giliran."))
            return SETTLED
        try:
            outcome = execute(
                self.c, ticket, cancel=cancel,
                on_progress=SharedProgress(self.c, run_id, self.name,
                                           watcher.on_progress if watcher else None),
                then=watcher.then if watcher else after_run(self.c),
                on_settled=watcher.on_settled if watcher else (lambda o: None))
        except BaseException as exc:
            if watcher is not None:
                watcher.on_end(exc)
            raise
        if watcher is not None:
            watcher.on_end(outcome)
        return outcome.status

    def _keep(self) -> None:
        """Every BEAT seconds: say this worker is alive, pass on "Batal" asked elsewhere,
        and take up the restores of a worker of this zone gone silent."""
        while not self.halt.wait(beat_every(self.c)):
            try:
                if not beat(self.c, self.member):
                    # Found silent and taken over: what it runs is being done again elsewhere.
                    log.error("worker %s dianggap mati oleh worker lain; restore yang "
                              "berjalan di sini dihentikan", self.name)
                    for cancel in list(self.running.values()):
                        cancel.set()
                for run_id in cancels_asked(self.c, self.name):
                    if (asked := self.running.get(run_id)) is not None:
                        asked.set()
                for gone in claim_gone(self.c, self.member.zone, self.name):
                    taken = self.queue.take_over(gone)
                    log.warning("worker %s berhenti; %d restore-nya diambil alih", gone, taken)
                self._sweep()
            except Exception:
                log.warning("worker %s: pemeriksaan berkala gagal", self.name, exc_info=True)

    def _sweep(self) -> None:
        """This worker's restores that ended nowhere: begun here, not running here, and
        in line nowhere (their step failed, say with the database gone for a moment,
        leaving the run unrecorded and locked). Each is put in line again, to be taken
        back here (cleaned up, then redone or finished), at most AGAIN_MAX times."""
        for run_id, uid in stranded_runs(self.c, self.name):
            if run_id in self.running or self.queue.in_line(uid):
                continue
            tries = self.requeued.get(run_id, 0)
            if tries >= AGAIN_MAX:
                continue
            self.requeued[run_id] = tries + 1
            log.error("restore #%s berhenti tanpa tercatat; diambil lagi (ke-%d dari %d)",
                      run_id, tries + 1, AGAIN_MAX)
            with self.c.unit_of_work() as session:
                place = queue_place(session, run_id)
            self.queue.enqueue(run_id, uid, place.slot, place.priority, place.zone)
