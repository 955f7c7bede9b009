"""What the chat shows of a restore run when it ends, as plain values: the handler renders
it and never holds a session."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.bootstrap import Container
from bot.db.models import Request, RestoreRun
from bot.services.documents.case_file import verification_checks
from bot.workflow.choices import Choice
from bot.workflow.refusals import NotFound
from letters.facts import Check


@dataclass(frozen=True)
class RunResult:
    """A restore run's end as recorded, and what the team can do next."""

    status: str
    error: str
    checks: tuple[Check, ...]
    ended: datetime
    kept: bool  # the previous live state is kept: a rollback is possible
    next: list[list[Choice]]


def run_result(c: Container, run_id: int) -> RunResult:
    with c.sessions() as session:
        run = session.get(RestoreRun, run_id)
        if run is None:
            raise NotFound(f"Restore #{run_id} tidak ditemukan.")
        request = session.get(Request, run.request_id) if run.request_id else None
        rows: list[list[Choice]] = []
        if request is not None:
            rid, version = request.id, request.version
            if run.rollback_ref:
                rows.append([Choice("rb", rid, version, run.id)])
            elif run.status == "cancelled" and run.backup_check_id:
                rows.append([Choice("go", rid, version, run.backup_check_id, variant="lagi")])
            elif run.status != "running" and run.backup_check_id:
                rows.append([Choice("u", rid, version, run.backup_check_id)])
            if not run.rollback_ref:
                rows.append([Choice("b", rid, version, variant="lain")])
        verification = json.loads(run.verification or "{}")
        return RunResult(run.status, run.error or "",
                         verification_checks(verification if isinstance(verification, dict)
                                             else {}),
                         run.finished_at or c.clock(), bool(run.rollback_ref), rows)
