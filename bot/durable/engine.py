"""The restore queue on DBOS Transact: a restore confirmed in chat is a durable workflow
on one partitioned queue. The queue keeps the limits (N in all; each backup server's own
through its slots, bot.durable.partitions; each system one at a time through the run's
lock) and each system's priority within its server's slots; a restore still waiting
survives a crash of the process and starts after the next launch.

One DBOS per process (the library holds it globally): `DurableQueue.start` launches it
for this process's database, `stop` destroys it. The work itself is not here: the
process that runs restores registers what carrying out a run means (`carry`), so that
this module knows no chat and no SSH."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from dbos import DBOS, DBOSConfig, Queue, SetEnqueueOptions, SetWorkflowID

log = logging.getLogger("pulih.queue")

QUEUE = "pulih-restores"
POLL = 0.05  # seconds between the queue's looks for work it may start
SETTLED = "settled"  # what the step returns for a run already ended elsewhere
POSTPONED = "postponed"  # ... for a run whose turn came as the process stopped (still queued)
_IN_LINE = ("ENQUEUED", "PENDING")
# Changed only when restore_workflow's steps change shape (then waiting runs must be
# carried over by a migration of their own).
APPLICATION_VERSION = "pulih-restore-1"

_lock = threading.Lock()
_carry: Callable[[int], str] | None = None


@DBOS.step()
def carry_out(run_id: int) -> str:
    """Step: carry out restore run `run_id` (recorded as queued) to its end; what it ended
    as. Run again after a crash, it finds the run settled by recovery and does nothing."""
    carry = _carry
    if carry is None:
        raise RuntimeError("tidak ada yang menjalankan restore di proses ini")
    return carry(run_id)


@DBOS.workflow()
def restore_workflow(run_id: int) -> str:
    return carry_out(run_id)


def workflow_ids(run_uid: str) -> Iterator[str]:
    """The workflows a run may have had: one, and another each time it was put in line
    again after its workflow ended without carrying it out (postponed by a stop)."""
    yield f"restore-{run_uid}"
    for n in itertools.count(2):
        yield f"restore-{run_uid}-{n}"


def _current(run_uid: str) -> tuple[str, bool]:
    """The run's workflow id to use now, and whether that workflow is in line already."""
    for candidate in workflow_ids(run_uid):
        status = DBOS.get_workflow_status(candidate)
        if status is None:
            return candidate, False
        if status.status in _IN_LINE:
            return candidate, True
    raise AssertionError("unreachable")  # pragma: no cover


def system_database_url(database_url: str, data_dir: Path) -> str:
    """Where DBOS keeps the queue: beside Pulih's own tables in PostgreSQL (its own schema),
    a file of its own beside Pulih's SQLite database."""
    if database_url.startswith("postgresql"):
        return database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    return f"sqlite:///{data_dir / 'antrean-restore.sqlite3'}"


def queue_name(zone: str | None) -> str:
    """The queue of a zone's restores (each data centre its own, taken by its workers)."""
    return QUEUE if zone is None else f"{QUEUE}@{zone}"


class DurableQueue:
    """This process's handle on the restore queue: it takes the work of its `zone` when
    it `carries` restores out, and puts any zone's work in line."""

    def __init__(self, url: str, *, limit: int, executor: str = "local",
                 zone: str | None = None, carries: bool = True) -> None:
        self.url, self.limit, self.executor = url, limit, executor
        self.zone, self.carries = zone, carries
        self.started = False

    def start(self, carry: Callable[[int], str] | None = None) -> None:
        """Launch DBOS here; with `carry` (and `carries`), taking its zone's work from
        the queue (restores that were waiting, or that this process had begun, when it
        last stopped are taken up now)."""
        global _carry
        with _lock:
            _carry = carry
            # One version, named here, not DBOS's hash of this process's code: a restore
            # left waiting or cut off by a process whose code differed (an upgrade of
            # Pulih, or another program sharing the library) is still taken up, and a
            # cut-off one does not hold its backup server's slot for ever.
            config: DBOSConfig = {"name": "pulih", "system_database_url": self.url,
                                  "executor_id": self.executor, "log_level": "WARNING",
                                  "application_version": APPLICATION_VERSION,
                                  # Its listener for notifications (SQLite: a polling
                                  # loop that only sleeps while none is awaited) wakes
                                  # this often; a stop waits for it to wake, so the
                                  # default second made every stop of the bot a second.
                                  "notification_listener_polling_interval_sec": 0.1}
            # One DBOS per process: one left by an application in this process that was
            # never stopped (its queues, its listening) is ended before this one begins.
            DBOS.destroy()
            DBOS(config=config)
            taking = self.carries and carry is not None
            DBOS.listen_queues([queue_name(self.zone)] if taking else [])
            DBOS.launch()
            self.started = True
            if taking:
                self._queue(self.zone)

    def _queue(self, zone: str | None) -> Queue:
        name = queue_name(zone)
        return DBOS.retrieve_queue(name) or DBOS.register_queue(
            name, global_concurrency=self.limit, partition_concurrency=1,
            polling_interval_sec=POLL)

    def enqueue(self, run_id: int, run_uid: str, slot: str, priority: int,
                zone: str | None = None) -> None:
        """Put run `run_id` in line in its zone's queue, unless it is already (the same
        run twice is one workflow in line)."""
        with _lock:
            queue = self._queue(zone)
            wanted, in_line = _current(run_uid)
            if in_line:
                return
            with SetWorkflowID(wanted), \
                    SetEnqueueOptions(queue_partition_key=slot, priority=priority):
                queue.enqueue(restore_workflow, run_id)

    def in_line(self, run_uid: str) -> bool:
        with _lock:
            return _current(run_uid)[1]

    def drop(self, run_uid: str) -> None:
        """A run settled before it began (cancelled while waiting): its workflow goes."""
        with _lock:
            current, in_line = _current(run_uid)
            if in_line:
                DBOS.cancel_workflow(current)

    def take_over(self, executor: str) -> int:
        """The restores a worker that is gone had begun are put back in line, for the
        living (this one or another of its zone); how many."""
        return len(DBOS._recover_pending_workflows([executor]))

    def stop(self, grace: int = 0) -> None:
        """Stop taking work, let what runs here finish for up to `grace` seconds, and
        shut DBOS down (what is still running then is cut off, for recovery)."""
        global _carry
        with _lock:
            if self.started:
                DBOS.destroy(workflow_completion_timeout_sec=grace)
                self.started = False
            _carry = None
