"""Steps 4-7 as the team group does them for a request: list and check its restore
points, start its restore, accept a restore a crash left live, submit the report, and
what ratification sets off (the notification letter to the agency).

Functions that take a Container block (SSH): the bot calls them in worker threads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import BackupCheck, Person, Request
from bot.render import render_text
from bot.services.people.actors import actor_for_person
from bot.services.requests.notify import notify_move
from bot.services.requests.records import apply_action, ensure_allowed, get_request
from bot.services.restores.backups import (
    SystemAccess,
    list_backups,
    record_check,
    run_check,
    system_access,
)
from bot.services.restores.runs import RunTicket, start_run
from bot.workflow.refusals import AlreadyDecided, NotFound
from bot.workflow.rules import Actor
from bot.workflow.sop import Action, State
from restore.catalog import RestorePoint
from restore.check import CheckReport, Verdict
from restore.engine import Outcome
from restore.recipes.registry import streams


@dataclass(frozen=True)
class PointList:
    ticket: str
    system_name: str
    system_code: str
    requested: datetime | None
    points: list[RestorePoint]


def _checkable(c: Container, request_id: int,
               actor: Actor) -> tuple[SystemAccess, str, datetime | None]:
    """The request's system, ticket and requested point, if `actor` may check backups."""
    zone = c.settings.timezone
    with c.sessions() as session:
        ensure_allowed(session, request_id, actor, Action.CHECK_BACKUP, c.clock(), zone)
        request = get_request(session, request_id)
        return (system_access(session, request.system.code, zone), request.ticket,
                request.recovery_point)


def restore_points(c: Container, request_id: int, actor: Actor) -> PointList:
    """The system's restore points, newest first, for a team member who may check them."""
    access, ticket, requested = _checkable(c, request_id, actor)
    return PointList(ticket, access.name, access.code, requested, list_backups(access))


@dataclass(frozen=True)
class CheckDone:
    report: CheckReport
    check_id: int
    version: int  # the request's version after the check (for the Restore button)
    ticket: str
    system_name: str
    system_code: str
    way: str = "stream"  # how step 5 will move the file: stream, pull or staged

    @property
    def passed(self) -> bool:
        return self.report.verdict is not Verdict.FAILED


def restore_way(access: SystemAccess, names: list[str]) -> str:
    """How step 5 will move this point's file: the target pulls it, it streams through
    Pulih into the import, or (a format read twice) it is staged on the target first."""
    if not all(streams(access.recipe, n) for n in names):
        return "staged"  # copied through Pulih, pulled or not
    return "pull" if access.pull is not None else "stream"


def check_for_request(c: Container, request_id: int, actor: Actor, point: int | str, *,
                      on_phase: Callable[[str], None] | None = None,
                      then: Callable[[Session, CheckDone], None] | None = None) -> CheckDone:
    """Step 4: check one point (by name, or by when it was taken) and record it; a point
    that passes moves the request to 'backup checked'. `on_phase` hears the check's
    phases; `then` writes the caller's part (the result for the team) in the same
    transaction as the record."""
    zone = c.settings.timezone
    access, _, requested = _checkable(c, request_id, actor)
    started = c.clock()
    report = run_check(access, point, c.clock(), requested, on_phase)
    with c.unit_of_work() as session:
        row = record_check(session, access, report, started_at=started, now=c.clock(),
                           actor_id=actor.person_id, actor_name=actor.name, actor_role="tim",
                           request_id=request_id)
        request = get_request(session, request_id)
        if report.verdict is not Verdict.FAILED:
            request = apply_action(session, request_id, actor, Action.CHECK_BACKUP, c.clock(),
                                   zone, data={"check_id": row.id, "point": report.point})
        done = CheckDone(report, row.id, request.version, request.ticket, access.name,
                         access.code, restore_way(access, list(report.digests)))
        if then is not None:
            then(session, done)
        return done


def earlier_point(c: Container, request_id: int, check_id: int) -> str:
    """The point an earlier check of this request looked at (to check it again)."""
    with c.sessions() as session:
        check = session.get(BackupCheck, check_id)
        if check is None or check.request_id != request_id:
            raise NotFound("Pemeriksaan backup itu tidak ditemukan untuk permohonan ini.")
        return check.point


def begin_restore(c: Container, request_id: int, actor: Actor, check_id: int,
                  version: int, queued: bool = False) -> RunTicket:
    """Step 5 starts: the system's lock taken and the run recorded, if the card the member
    confirmed is still current. Busy if another restore of the system runs. `queued`: it
    waits in the restore queue for its turn (bot.durable)."""
    zone = c.settings.timezone
    with c.unit_of_work() as session:
        request = get_request(session, request_id)
        ensure_allowed(session, request_id, actor, Action.START_RESTORE, c.clock(), zone)
        if request.version != version:
            raise AlreadyDecided("Hasil pemeriksaan ini sudah usang: permohonan telah berubah "
                                 "sejak itu. Tidak ada yang diubah.")
        check = session.get(BackupCheck, check_id)
        if check is None or check.request_id != request_id:
            raise NotFound("Pemeriksaan backup itu tidak ditemukan untuk permohonan ini.")
        access = system_access(session, request.system.code, zone)
        return start_run(session, access, check, actor, c.clock(), zone, request_id,
                         queued=queued)


def submit_report(session: Session, request_id: int, actor: Actor, now: datetime,
                  zone: ZoneInfo, team_chat_id: int, *, version: int | None = None) -> Request:
    """Step 6: the report (made from the records) goes to the Kepala Bidang."""
    request = apply_action(session, request_id, actor, Action.SUBMIT_REPORT, now, zone,
                           expected_version=version)
    notify_move(session, request, now, zone, team_chat_id, actor_name=actor.name)
    return request


def accept_restored(session: Session, request_id: int, actor: Actor, now: datetime,
                    zone: ZoneInfo, team_chat_id: int, version: int) -> Request:
    """A restore a crash left live has been looked at: verified, and the report goes up."""
    apply_action(session, request_id, actor, Action.VERIFY, now, zone, expected_version=version,
                 data={"note": "diperiksa Tim Teknis setelah restore terputus"})
    return submit_report(session, request_id, actor, now, zone, team_chat_id)


def notify_agency(session: Session, request: Request, now: datetime,
                  zone: ZoneInfo) -> Request:
    """Step 7, right after ratification: the team (whoever wrote the report) sends the
    notification letter with the report; the documents are ordered by `notify_move`."""
    author = session.get(Person, request.report_author_id or request.executor_id or 0)
    if author is None:
        raise NotFound("Laporan ini tidak punya pembuat; surat pemberitahuan tidak dapat "
                       "dikirim.")
    return apply_action(session, request.id, actor_for_person(session, author), Action.NOTIFY,
                        now, zone)


def after_run(c: Container) -> Callable[[Session, int, Actor, Outcome], None]:
    """What the chat does when a request's run ends, in the transaction that records it:
    a verified restore's report goes up; otherwise the requester hears what happened
    (the team reads it on the run's own message)."""

    zone, clock, team_chat_id = c.settings.timezone, c.clock, c.office.team_chat_id

    def hook(session: Session, request_id: int, actor: Actor, outcome: Outcome) -> None:
        request = get_request(session, request_id)
        if State(request.state) is State.VERIFIED:
            submit_report(session, request_id, actor, clock(), zone, team_chat_id)
        else:
            notify_move(session, request, clock(), zone, team_chat_id, actor_name=actor.name,
                        note=render_text("chat/run_for_requester.txt.j2", zone,
                                         status=outcome.status).strip(), tell_team=False)

    return hook


def after_interruption(c: Container) -> Callable[[Session, int, Actor, str], None]:
    """After a restart: the team group hears of a run the crash cut off, with what it can
    do next (retry, or accept or roll back a restore that was already live)."""

    zone, clock, team_chat_id = c.settings.timezone, c.clock, c.office.team_chat_id

    def hook(session: Session, request_id: int, actor: Actor, message: str) -> None:
        notify_move(session, get_request(session, request_id), clock(), zone, team_chat_id,
                    note=message)

    return hook


def after_rollback(c: Container, actor_name: str, reason: str
                   ) -> Callable[[Session, int], None]:
    """What the chat does when a rollback asked from the team group is done: the request's
    people hear of it, with the reason, in the transaction that records it."""

    def hook(session: Session, request_id: int) -> None:
        notify_move(session, get_request(session, request_id), c.clock(), c.settings.timezone,
                    c.office.team_chat_id, actor_name=actor_name, note=reason)

    return hook


def team_step_allowed(session: Session, request_id: int, version: int, actor: Actor,
                      action: Action, exact: bool, now: datetime, zone: ZoneInfo) -> str:
    """The request's ticket, if `actor` may take this team step now; with `exact`, only
    on the message of the request's current state."""
    ensure_allowed(session, request_id, actor, action, now, zone)
    request = get_request(session, request_id)
    if exact and request.version != version:
        raise AlreadyDecided("Pesan ini sudah usang: permohonan telah berubah sejak itu. "
                             "Tidak ada yang diubah.")
    return request.ticket
