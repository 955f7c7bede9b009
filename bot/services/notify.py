"""What people are told when a request moves, written to the outbox in the same
transaction as the move itself: a decision and its notifications commit together, and a
restart sends whatever was not sent. The dedupe key makes a second enqueue of the same
notification a no-op, so a repeated job or a retried handler never doubles a card."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.db.models import (
    BackupCheck,
    OutboxMessage,
    Person,
    Request,
    RestoreRun,
)
from bot.render import render_text
from bot.services.deadlines import open_deadline
from bot.services.document_orders import Order, order_documents
from bot.services.officials import holders
from bot.services.requests import SCOPE_LABELS, Scope
from bot.workflow.choices import Choice
from bot.workflow.sop import STATE_LABELS, TERMINAL_STATES, Role, State
from letters.timefmt import local_date


@dataclass(frozen=True)
class Attachment:
    """A file kept on disk (an issued document) sent with the message as its caption."""

    path: str
    filename: str


def enqueue(session: Session, *, key: str, chat_id: int, kind: str, text: str,
            now: datetime, buttons: list[list[Choice]] | None = None,
            request_id: int | None = None, attachment: Attachment | None = None) -> bool:
    """Add one notification unless one with the same key exists; True if added."""
    exists = session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
                             ).first()
    if exists is not None:
        return False
    payload: dict[str, Any] = {"text": fit(text, MAX_CAPTION if attachment else MAX_TEXT)}
    if attachment is not None:
        payload["document"] = {"path": attachment.path, "filename": attachment.filename}
    if buttons:
        payload["buttons"] = [[choice.as_dict() for choice in row] for row in buttons]
    session.add(OutboxMessage(dedupe_key=key[:200], chat_id=chat_id, kind=kind,
                              payload=json.dumps(payload, ensure_ascii=False),
                              request_id=request_id, status="pending", attempts=0,
                              next_attempt_at=now, created_at=now, last_error=""))
    session.flush()
    return True


MAX_TEXT = 4096  # Telegram's limit for one message
MAX_CAPTION = 1024  # and for a document's caption
CUT_NOTE = "\n[...] (terpotong; isi lengkap ada di /status dan surat permohonan)"


def fit(text: str, limit: int = MAX_TEXT) -> str:
    """The text within Telegram's limit; a long reason is cut with a pointer to the rest."""
    if len(text) <= limit:
        return text
    return text[:limit - len(CUT_NOTE)].rstrip() + CUT_NOTE


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


OUTBOX_KEPT = timedelta(days=90)


def prune_outbox(session: Session, now: datetime, kept: timedelta = OUTBOX_KEPT) -> int:
    """Delete messages settled (sent, or given up) more than `kept` ago that belong to no
    request or to a finished one: their keys can no longer come back, so nothing is sent
    twice, and the table stops growing with the years. Returns how many went."""
    finished = select(Request.id).where(Request.state.in_([s.value for s in TERMINAL_STATES]))
    doomed = delete(OutboxMessage).where(
        OutboxMessage.status != "pending", OutboxMessage.created_at < now - kept,
        or_(OutboxMessage.request_id.is_(None), OutboxMessage.request_id.in_(finished)))
    return int(session.execute(doomed).rowcount or 0)  # type: ignore[attr-defined]
