"""What a restore's worker and the chat watching it share through the database, since
they may be on different hosts: how far the run is (written by the worker about once a
second), and who asked it to stop ("Batal", read by the worker every few seconds)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from bot.bootstrap import Container
from bot.db.models import RestoreRun
from restore.engine import Phase, Progress

log = logging.getLogger("pulih.restores")

SHARE_EVERY = 1.0  # seconds between a run's progress records
ENDED = ("succeeded", "failed", "cancelled", "interrupted")


def _record(progress: Progress) -> str:
    return json.dumps({"phase": progress.phase.value, "done": progress.done,
                       "total": progress.total, "rate": progress.rate, "eta": progress.eta})


def read_progress(text: str | None) -> Progress | None:
    if not text:
        return None
    try:
        data = json.loads(text)
        return Progress(Phase(data["phase"]), int(data["done"]), int(data["total"]),
                        float(data["rate"]), None if data["eta"] is None else float(data["eta"]))
    except (ValueError, KeyError, TypeError):
        return None


class SharedProgress:
    """A run's progress callback for its worker: passed on to a watcher in the same
    process at once (`local`), and recorded for watchers elsewhere at most every
    SHARE_EVERY seconds and at each change of phase."""

    def __init__(self, c: Container, run_id: int, worker: str,
                 local: Callable[[Progress], None] | None = None) -> None:
        self.c, self.run_id, self.worker, self.local = c, run_id, worker, local
        self.last = 0.0
        self.phase: Phase | None = None
        self.lock = threading.Lock()

    def __call__(self, progress: Progress) -> None:
        if self.local is not None:
            self.local(progress)
        now = time.monotonic()
        with self.lock:
            if progress.phase is self.phase and now - self.last < SHARE_EVERY:
                return
            self.last, self.phase = now, progress.phase
        try:
            with self.c.unit_of_work() as session:
                session.execute(update(RestoreRun).where(
                    RestoreRun.id == self.run_id, RestoreRun.worker == self.worker).values(
                    progress=_record(progress)))
        except Exception:  # the restore goes on; its watchers see the next one
            log.warning("kemajuan restore #%s tidak tercatat", self.run_id, exc_info=True)


def ask_cancel(c: Container, run_id: int, by: str) -> bool:
    """Ask the worker carrying out run `run_id` to stop it (it reads this within seconds);
    False if the run is not running."""
    with c.unit_of_work() as session:
        return bool(session.execute(update(RestoreRun).where(
            RestoreRun.id == run_id, RestoreRun.status == "running",
            RestoreRun.cancel_by.is_(None)).values(
            cancel_by=by[:200])).rowcount)  # type: ignore[attr-defined]


def cancels_asked(c: Container, worker: str) -> dict[int, str]:
    """The runs `worker` carries out that someone asked to stop, and who."""
    with c.sessions() as session:
        rows = session.execute(select(RestoreRun.id, RestoreRun.cancel_by).where(
            RestoreRun.worker == worker, RestoreRun.status == "running",
            RestoreRun.cancel_by.is_not(None))).all()
    return {run_id: by or "" for run_id, by in rows}


@dataclass(frozen=True)
class RunView:
    """A run as its watcher elsewhere sees it."""

    status: str
    progress: Progress | None
    worker: str | None
    error: str
    cancel_by: str | None

    @property
    def ended(self) -> bool:
        return self.status in ENDED


def run_view(c: Container, run_id: int) -> RunView | None:
    with c.sessions() as session:
        run = session.get(RestoreRun, run_id)
        if run is None:
            return None
        return RunView(run.status, read_progress(run.progress), run.worker, run.error or "",
                       run.cancel_by)
