"""What people are told when a request moves (planned in `notices.py`), written to the
outbox in the same transaction as the move itself: a decision and its notifications
commit together, and a restart sends whatever was not sent. The dedupe key makes a second
enqueue of the same notification a no-op, so a repeated job or a retried handler never
doubles a card."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import BackupCheck, Person, Request, RestoreRun
from bot.render import render_text
from bot.services.documents.orders import Order, order_documents
from bot.services.office.bot_identity import email_on
from bot.services.outbox.email_copies import mail_notice
from bot.services.outbox.queue import enqueue
from bot.services.people.officials import holders
from bot.services.requests.deadlines import open_deadline
from bot.services.requests.notices import (
    TEAM_NOTICE_STATES,
    Moved,
    Notice,
    Recipient,
    plan_notices,
    post,
    team_next,
)
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


class _Outbox:
    """The plan's messages, rendered with the request's facts, into the database's outbox
    (the caller's unit of work)."""

    def __init__(self, session: Session, request: Request, now: datetime, zone: ZoneInfo
                 ) -> None:
        self.session, self.request, self.now, self.zone = session, request, now, zone
        self.facts = _context(session, request)

    def queue(self, notice: Notice) -> None:
        text = _text(notice.template, self.zone, **self.facts, **notice.values)
        if notice.email is not None:
            mail_notice(self.session, key=notice.key, address=notice.email,
                        kind=notice.kind, text=text, card=bool(notice.choices),
                        request_id=self.request.id, now=self.now)
            return
        enqueue(self.session, key=notice.key, chat_id=notice.chat_id, kind=notice.kind,
                text=text, now=self.now, buttons=notice.choices, request_id=self.request.id)

    def order(self, orders: list[Order], key: str) -> None:
        order_documents(self.session, self.request.id, orders, key=key, now=self.now)


def _recipients(people: list[Person], mail: bool) -> tuple[Recipient, ...]:
    return tuple(Recipient(p.id, p.name, p.telegram_id, p.email if mail else None)
                 for p in people)


def moved(session: Session, request: Request, day: date, team_chat_id: int) -> Moved:
    """What the plan needs of a request just moved, read from the records."""
    state = State(request.state)
    mail = email_on(session)
    kadis: tuple[Recipient, ...] = ()
    kabids, request_kabid, team = kadis, kadis, kadis
    if state is State.SUBMITTED:
        kadis = _recipients(holders(session, Role.KADIS, day), mail)
        kabids = _recipients(holders(session, Role.KABID, day), mail)
    if state in (State.DISPOSED_TO_KABID, State.REPORT_SUBMITTED):
        request_kabid = _recipients(holders(session, Role.KABID, day,
                                            principal_id=request.kabid_id), mail)
    if state is State.DISPOSED_TO_KABID:
        team = _recipients(holders(session, Role.TIM, day), mail)
    assignee = session.get(Person, request.assignee_id) if request.assignee_id else None
    nexts: tuple[tuple[Choice, ...], ...] = ()
    if state in TEAM_NOTICE_STATES:
        check = session.execute(select(BackupCheck.id).where(BackupCheck.request_id == request.id)
                                .order_by(BackupCheck.id.desc())).scalars().first()
        run = rollback_candidate(session, request.id)
        nexts = team_next(state, request.id, request.version, check,
                          run.id if run is not None else None)
    requester = request.requester
    return Moved(request.id, request.version, state,
                 Recipient(requester.id, requester.name, requester.telegram_id,
                           requester.email if mail else None), team_chat_id,
                 kadis, kabids, request_kabid, team,
                 _recipients([assignee], mail)[0] if assignee is not None else None, nexts,
                 shared=request.incident_id is not None and not request.apart)


def notify_move(session: Session, request: Request, now: datetime, zone: ZoneInfo,
                team_chat_id: int, actor_name: str = "", note: str = "",
                tell_team: bool = True) -> None:
    """Enqueue the cards and notices the request's new state calls for (`tell_team`
    False: the team group saw it happen on a message of its own)."""
    facts = moved(session, request, local_date(now, zone), team_chat_id if tell_team else 0)
    post(plan_notices(facts, actor_name, note), _Outbox(session, request, now, zone))


def notify_request(session: Session, request_id: int, now: datetime, zone: ZoneInfo,
                   team_chat_id: int, actor_name: str = "", note: str = "") -> None:
    """`notify_move` for a request known by its id."""
    request = session.get(Request, request_id)
    assert request is not None
    notify_move(session, request, now, zone, team_chat_id, actor_name=actor_name, note=note)


def rollback_candidate(session: Session, request_id: int) -> RestoreRun | None:
    """The request's latest run whose previous live state is still kept."""
    run = session.execute(select(RestoreRun).where(RestoreRun.request_id == request_id)
                          .order_by(RestoreRun.id.desc())).scalars().first()
    return run if run is not None and run.rollback_ref else None
