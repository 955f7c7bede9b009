"""What people are told when a request moves, written to the outbox in the same
transaction as the move itself: a decision and its notifications commit together, and a
restart sends whatever was not sent. The dedupe key makes a second enqueue of the same
notification a no-op, so a repeated job or a retried handler never doubles a card."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import BackupCheck, Person, Request, RestoreRun
from bot.render import render_text
from bot.services.documents.orders import Order, order_documents
from bot.services.outbox.queue import enqueue
from bot.services.people.officials import holders
from bot.services.requests.deadlines import open_deadline
from bot.services.requests.records import SCOPE_LABELS, Scope
from bot.workflow.choices import Choice
from bot.workflow.sop import STATE_LABELS, Role, State
from letters.timefmt import local_date


def _context(session: Session, request: Request) -> dict[str, Any]:
    deadline = open_deadline(session, request.id)
    checked = session.execute(
        select(BackupCheck).where(BackupCheck.system_id == request.system_id,
                                  BackupCheck.status != "failed",
                                  BackupCheck.point_time.is_not(None))
        .order_by(BackupCheck.point_time.desc())).scalars().first()
    return {"r": request, "agency": request.agency.name, "system": request.system,
            "requester": request.requester, "scope": SCOPE_LABELS[Scope(request.scope)],
            "state": STATE_LABELS[State(request.state)], "deadline": deadline,
            "backup": checked}


def _text(name: str, zone: ZoneInfo, **values: Any) -> str:
    return render_text(f"chat/{name}.txt.j2", zone, **values).strip()


def notify_move(session: Session, request: Request, now: datetime, zone: ZoneInfo,
                team_chat_id: int, actor_name: str = "", note: str = "",
                tell_team: bool = True) -> None:
    """Enqueue the cards and notices the request's new state calls for (`tell_team`
    False: the team group saw it happen on a message of its own)."""
    if not tell_team:
        team_chat_id = 0
    state = State(request.state)
    day = local_date(now, zone)
    ctx = _context(session, request)
    key = f"{request.id}:{request.version}"
    if state is State.SUBMITTED:
        kabids = holders(session, Role.KABID, day)
        buttons = [[Choice("d", request.id, request.version, p.id, name=p.name)]
                   for p in kabids if p.id != request.requester_id]
        buttons.append([Choice("r", request.id, request.version),
                        Choice("x", request.id, request.version)])
        for person in holders(session, Role.KADIS, day):
            _to_person(session, person, f"{key}:kadis", "card_kadis",
                       _text("card_kadis", zone, **ctx), now, buttons, request.id)
    elif state is State.DISPOSED_TO_KABID:
        members = holders(session, Role.TIM, day)
        buttons = [[Choice("a", request.id, request.version, 0, variant="grup")],
                   [Choice("k", request.id, request.version, 0)],
                   [Choice("n", request.id, request.version, 0)]]
        buttons += [[Choice("a", request.id, request.version, p.id, name=p.name)]
                    for p in members if p.id != request.requester_id]
        buttons.append([Choice("x", request.id, request.version)])
        for person in holders(session, Role.KABID, day, principal_id=request.kabid_id):
            _to_person(session, person, f"{key}:kabid", "card_kabid",
                       _text("card_kabid", zone, note=note, by=actor_name, **ctx), now, buttons,
                       request.id)
    elif state is State.ASSIGNED_TO_TEAM and team_chat_id:
        assignee = session.get(Person, request.assignee_id) if request.assignee_id else None
        enqueue(session, key=f"{key}:team", chat_id=team_chat_id, kind="card_team",
                text=_text("card_team", zone, assignee=assignee, note=note, by=actor_name,
                           **ctx), now=now, request_id=request.id,
                buttons=[[Choice("b", request.id, request.version)]])
        order_documents(session, request.id, [Order("disposisi", (team_chat_id,))], key=key,
                        now=now)
    elif state is State.REPORT_SUBMITTED:
        buttons = [[Choice("y", request.id, request.version),
                    Choice("yr", request.id, request.version)]]
        kabids = holders(session, Role.KABID, day, principal_id=request.kabid_id)
        for person in kabids:
            _to_person(session, person, f"{key}:report", "card_report",
                       _text("card_report", zone, by=actor_name, **ctx), now, buttons,
                       request.id)
        order_documents(session, request.id, [
            Order("laporan", tuple(p.telegram_id for p in kabids if p.telegram_id), draft=True)],
            key=key, now=now)
        if team_chat_id:
            enqueue(session, key=f"{key}:team", chat_id=team_chat_id, kind="notice",
                    text=_text("notice_team", zone, by=actor_name, note=note, **ctx), now=now,
                    request_id=request.id)
    elif state is State.NOTIFIED:
        buttons = [[Choice("ok", request.id, request.version),
                    Choice("no", request.id, request.version)]]
        _to_person(session, request.requester, f"{key}:step8", "card_step8",
                   _text("card_step8", zone, **ctx), now, buttons, request.id)
        chats = (request.requester.telegram_id or 0, team_chat_id)
        order_documents(session, request.id, [Order("laporan", chats),
                                              Order("surat_pemberitahuan", chats)],
                        key=key, now=now)
        if team_chat_id:
            enqueue(session, key=f"{key}:team", chat_id=team_chat_id, kind="notice",
                    text=_text("notice_team", zone, by=actor_name, note=note, **ctx), now=now,
                    request_id=request.id)
        return
    elif state in (State.REOPENED, State.VERIFIED, State.RESTORED, State.RESTORE_FAILED) \
            and team_chat_id:
        enqueue(session, key=f"{key}:team", chat_id=team_chat_id, kind="notice",
                text=_text("notice_team", zone, by=actor_name, note=note, **ctx), now=now,
                request_id=request.id, buttons=_team_buttons(session, request))
    if state in QUIET_FOR_REQUESTER:
        return
    if state is not State.SUBMITTED or request.version > 1:
        _to_person(session, request.requester, f"{key}:requester", "notice",
                   _text("notice_requester", zone, by=actor_name, note=note, **ctx), now, None,
                   request.id)


def notify_request(session: Session, request_id: int, now: datetime, zone: ZoneInfo,
                   team_chat_id: int, actor_name: str = "", note: str = "") -> None:
    """`notify_move` for a request known by its id."""
    request = session.get(Request, request_id)
    assert request is not None
    notify_move(session, request, now, zone, team_chat_id, actor_name=actor_name, note=note)


# Steps inside Diskominfo that the requester need not hear of one by one.
QUIET_FOR_REQUESTER = frozenset({State.BACKUP_CHECKED, State.RESTORED, State.VERIFIED,
                                 State.REPORT_SUBMITTED, State.REPORT_RATIFIED})


def _team_buttons(session: Session, request: Request) -> list[list[Choice]]:
    """What the team can do next from where the request stands."""
    state, rid, version = State(request.state), request.id, request.version
    if state is State.REOPENED:
        return [[Choice("b", rid, version)]]
    if state is State.RESTORE_FAILED:
        check = session.execute(select(BackupCheck.id).where(BackupCheck.request_id == rid)
                                .order_by(BackupCheck.id.desc())).scalars().first()
        retry = [Choice("u", rid, version, check)] if check else []
        return [[*retry, Choice("b", rid, version, variant="lain")]]
    rows = []
    if state is State.RESTORED:
        rows.append([Choice("v", rid, version)])
    elif state is State.VERIFIED:
        rows.append([Choice("lp", rid, version)])
    run = rollback_candidate(session, rid)
    if run is not None:
        rows.append([Choice("rb", rid, version, run.id)])
    return rows


def rollback_candidate(session: Session, request_id: int) -> RestoreRun | None:
    """The request's latest run whose previous live state is still kept."""
    run = session.execute(select(RestoreRun).where(RestoreRun.request_id == request_id)
                          .order_by(RestoreRun.id.desc())).scalars().first()
    return run if run is not None and run.rollback_ref else None


def _to_person(session: Session, person: Person, key: str, kind: str, text: str,
               now: datetime, buttons: list[list[Choice]] | None,
               request_id: int) -> None:
    if person.telegram_id is None:
        return  # not linked yet: the card waits in /antrian and in the CLI
    enqueue(session, key=f"{key}:{person.id}", chat_id=person.telegram_id, kind=kind,
            text=text, now=now, buttons=buttons, request_id=request_id)
