"""Copies kept for rollback: kept until the agency acknowledges the restore (step 8) or
the office's keeping time has passed, then removed from the target and recorded. The same
rule keeps what a rollback set aside (the restored data, and whatever was written to it
before the rollback), counted from the rollback."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import Request, RestoreRun, System
from bot.render import render_text
from bot.services.audit.chain import append_event
from bot.services.outbox.queue import enqueue
from bot.services.restores.backups import system_access
from bot.services.restores.runs import UNDONE_SINCE, target_spec
from bot.workflow.sop import TERMINAL_STATES, State
from letters.timefmt import as_utc
from restore.errors import RestoreError
from restore.recipes import RunNames
from restore.recipes.registry import recipe_for
from restore.ssh import session as ssh_session

log = logging.getLogger("pulih.rollbacks")
WARN_BEFORE = timedelta(days=1)


@dataclass(frozen=True)
class KeptCopy:
    """One run's copy of the live state it replaced, and until when it stays."""

    run_id: int
    uid: str  # with the number, names the copy on the target (RunNames)
    system_code: str
    ticket: str | None
    done_at: datetime
    expires_at: datetime
    finished_request: bool  # acknowledged (or otherwise ended): the copy is no longer owed
    undone: bool = False  # what a rollback set aside, not a copy for rollback

    @property
    def what(self) -> str:
        return "data yang di-rollback" if self.undone else "salinan rollback"

    def expired(self, now: datetime) -> bool:
        return self.finished_request or as_utc(now) >= self.expires_at

    def why(self, now: datetime) -> str:
        if self.finished_request:
            return "permohonan sudah selesai (diterima OPD)"
        if self.expired(now):
            return "masa simpan habis"
        return "menunggu konfirmasi OPD"


def kept_copies(session: Session, keep: timedelta) -> list[KeptCopy]:
    """Every copy still on its target (for rollback, or set aside by one), oldest run
    first."""
    runs = session.execute(select(RestoreRun).where(
        RestoreRun.status.in_(("succeeded", "interrupted", "rolled_back"))
    ).order_by(RestoreRun.id)).scalars().all()
    copies = []
    for run in runs:
        undone_since = json.loads(run.verification or "{}").get(UNDONE_SINCE) \
            if run.status == "rolled_back" else None
        if not run.rollback_ref and not undone_since:
            continue
        system = session.get(System, run.system_id)
        request = session.get(Request, run.request_id) if run.request_id else None
        done = as_utc(datetime.fromisoformat(undone_since) if undone_since
                      else run.finished_at or run.started_at)
        finished = request is not None and State(request.state) in TERMINAL_STATES
        copies.append(KeptCopy(run.id, run.uid or "", system.code if system else "?",
                               request.ticket if request else None, done, done + keep,
                               finished, undone=bool(undone_since)))
    return copies


def prune_rollbacks(c: Container) -> list[tuple[KeptCopy, str]]:
    """Remove every expired copy from its target and record it; returns each copy with
    what happened ("dihapus", or why it could not be)."""
    now = c.clock()
    keep = timedelta(days=c.settings.rollback_keep_days)
    zone = c.settings.timezone
    with c.sessions() as session:
        due = [c for c in kept_copies(session, keep) if c.expired(now)]
        work = []
        for copy in due:
            run = session.get(RestoreRun, copy.run_id)
            assert run is not None
            system = session.get(System, run.system_id)
            assert system is not None
            work.append((copy, run.request_id, system_access(session, system.code, zone),
                         target_spec(system)))
    done: list[tuple[KeptCopy, str]] = []
    for copy, request_id, access, spec in work:
        try:
            with ssh_session(access.target) as remote:
                recipe = recipe_for(spec)
                if copy.undone:
                    recipe.discard_undone(remote, RunNames(copy.run_id, copy.uid))
                else:
                    recipe.discard_rollback(remote, RunNames(copy.run_id, copy.uid))
        except RestoreError as exc:
            log.warning("%s restore #%d tidak dapat dihapus: %s", copy.what, copy.run_id,
                        exc.message)
            done.append((copy, f"gagal dihapus: {exc.message}"))
            continue
        with c.unit_of_work() as session:
            run = session.get(RestoreRun, copy.run_id)
            assert run is not None
            if copy.undone:
                verification = json.loads(run.verification or "{}")
                verification.pop(UNDONE_SINCE, None)
                run.verification = json.dumps(verification)
            else:
                run.rollback_ref = ""
            append_event(session, action="rollback_copy_removed", now=c.clock(),
                         request_id=request_id, note=copy.why(now),
                         data={"run_id": copy.run_id, "system": copy.system_code,
                               "copy": "undone" if copy.undone else "rollback"})
        done.append((copy, "dihapus"))
    return done


def warn_expiring(c: Container) -> int:
    """Tell the team group, once per copy, that a copy of a request the agency has not yet
    acknowledged will be removed within a day. Returns how many notices were queued."""
    now, zone = c.clock(), c.settings.timezone
    keep = timedelta(days=c.settings.rollback_keep_days)
    team_chat_id = c.office.team_chat_id
    queued = 0
    with c.unit_of_work() as session:
        for copy in kept_copies(session, keep):
            if copy.undone or copy.finished_request or \
                    not as_utc(now) >= copy.expires_at - WARN_BEFORE:
                continue
            text = render_text("chat/rollback_expiring.txt.j2", zone, copy=copy).strip()
            queued += enqueue(session, key=f"rbwarn:{copy.run_id}", chat_id=team_chat_id,
                              kind="rollback_expiry", text=text, now=now)
    return queued
