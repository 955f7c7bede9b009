"""The restore queue as people read it (`pulih queue`): what waits and what runs, where
and by which worker, and the workers themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import BackupServer, Request, RestoreRun, System
from bot.services.restores.progress import read_progress
from bot.services.restores.runs import DRILL
from bot.services.restores.workers import Member, alive, roster
from restore.engine import Progress

ORDER = {"running": 0, "succeeded": 1, "queued": 2}


@dataclass(frozen=True)
class QueueRow:
    run_id: int
    ticket: str  # the request's, "uji" (a restore drill), or "-" (a restore from the CLI)
    system: str
    server: str
    zone: str | None
    priority: int
    status: str  # queued | running | succeeded (still fingerprinting its rollback copy)
    since: datetime
    worker: str | None
    progress: Progress | None
    cancel_by: str | None


@dataclass(frozen=True)
class QueueView:
    rows: list[QueueRow]
    workers: list[tuple[Member, bool]]  # each, and whether it is alive


def queue_view(c: Container) -> QueueView:
    with c.sessions() as session:
        found = session.execute(
            select(RestoreRun, System, BackupServer, Request.ticket)
            .join(System, System.id == RestoreRun.system_id)
            .outerjoin(BackupServer, BackupServer.id == System.backup_server_id)
            .outerjoin(Request, Request.id == RestoreRun.request_id)
            .where(RestoreRun.lock_key.is_not(None))).all()
        rows = [QueueRow(run.id, ticket or (DRILL if run.kind == DRILL else "-"), system.code,
                         server.name if server else "-",
                         system.zone or (server.zone if server else None), system.priority,
                         run.status, run.started_at, run.worker, read_progress(run.progress),
                         run.cancel_by)
                for run, system, server, ticket in found]
    rows.sort(key=lambda r: (ORDER.get(r.status, 0), r.priority, r.run_id))
    return QueueView(rows, [(member, alive(c, member)) for member in roster(c)])
