"""Reminders at a step's deadline and escalation past it, from the deadlines table.

A sweep looks at the open deadlines that have passed: the one who owes the step is
reminded once (`reminded_at`), and once the step is late by half its Mutu Baku (at least
10 minutes; in working time for a step the office counts so, whose reminders and
escalations also wait for the office to be open) it is escalated once, one level up: the
team to the Kepala Bidang, the Kepala Bidang to the Kepala Dinas, the Kepala Dinas to the
acting official. Both go through the outbox under a key per deadline, so a sweep that runs
late, twice, or after a restart changes nothing more."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.db.models import Deadline, Incident, Person, Request
from bot.render import render_text
from bot.services.office.bot_identity import email_on
from bot.services.office.calendar import WORKING, office_clock
from bot.services.outbox.email_copies import mail_notice
from bot.services.outbox.queue import enqueue
from bot.services.people.officials import holders, role_holders, stand_ins
from bot.services.requests.deadlines import due_deadlines
from bot.workflow.sop import STEPS, Role
from letters.timefmt import local_date

MIN_GRACE = timedelta(minutes=10)


def _grace(step: int) -> timedelta:
    return max(MIN_GRACE, STEPS[step].service_time / 2)


def _owners(session: Session, deadline: Deadline, request: Request, day: date,
            team_chat_id: int) -> tuple[list[int], list[Person]]:
    """The chats told that a step is due, and the people without Telegram who owe it."""
    role = Role(deadline.role)
    if role is Role.OPD:
        people = [request.requester]
    elif role is Role.KABID:
        people = holders(session, Role.KABID, day, principal_id=request.kabid_id)
    elif role is Role.KADIS:
        people = holders(session, Role.KADIS, day)
    else:
        return ([team_chat_id] if team_chat_id else []), []
    return ([p.telegram_id for p in people if p.telegram_id is not None],
            [p for p in people if p.telegram_id is None])


def _escalation_targets(session: Session, deadline: Deadline, request: Request,
                        day: date) -> list[Person]:
    role = Role(deadline.role)
    if role is Role.TIM:
        return holders(session, Role.KABID, day, principal_id=request.kabid_id)
    if role is Role.KABID:
        return holders(session, Role.KADIS, day)
    if role is Role.KADIS:  # to whoever stands in for the Kepala Dinas today
        return [s.delegate for s in stand_ins(session, Role.KADIS, day,
                                              role_holders(session, Role.KADIS))]
    return []  # a late requester is reminded, not escalated


# The requests of one incident due at one step, for one chat: told in one message.
_Group = tuple[str, int, int, int]  # (reminder/escalation, incident, step, chat)


def sweep(session: Session, now: datetime, zone: ZoneInfo, team_chat_id: int) -> int:
    """Remind and escalate what is due; returns how many notices were enqueued. The
    requests of an incident decided on its shared cards are told together: one message
    per chat listing them, not one per request."""
    day = local_date(now, zone)
    added = 0
    grouped: dict[_Group, list[tuple[Request, Deadline]]] = {}

    def tell(kind: str, chat_id: int, key: str, request: Request, deadline: Deadline) -> int:
        if request.incident_id is not None and not request.apart:
            grouped.setdefault((kind, request.incident_id, deadline.step, chat_id), []).append(
                (request, deadline))
            return 0
        values = {"r": request, "step": STEPS[deadline.step], "deadline": deadline,
                  "late": now - deadline.due_at}
        text = render_text(f"chat/{kind}.txt.j2", zone, **values).strip()
        return int(enqueue(session, key=key, chat_id=chat_id, kind=kind, text=text, now=now,
                           request_id=request.id))

    mail = email_on(session)

    def mail_to(kind: str, person: Person, key: str, request: Request,
                deadline: Deadline) -> int:
        """The same notice by e-mail, to someone without Telegram (when the bot mails)."""
        if not mail or person.email is None:
            return 0
        text = render_text(f"chat/{kind}.txt.j2", zone, r=request, step=STEPS[deadline.step],
                           deadline=deadline, late=now - deadline.due_at).strip()
        return int(mail_notice(session, key=key, address=person.email, kind=kind, text=text,
                               card=False, request_id=request.id, now=now))

    clock = office_clock(session, zone)
    open_now = clock.calendar.is_open(now)
    for deadline in due_deadlines(session, now):
        request = session.get(Request, deadline.request_id)
        if request is None:
            continue
        if deadline.clock == WORKING and not open_now:
            continue  # a step counted in working time is told when the office opens
        if deadline.reminded_at is None:
            chats, unlinked = _owners(session, deadline, request, day, team_chat_id)
            for chat_id in chats:
                added += tell("reminder", chat_id, f"remind:{deadline.id}:{chat_id}", request,
                              deadline)
            for person in unlinked:
                added += mail_to("reminder", person, f"remind:{deadline.id}:p{person.id}",
                                 request, deadline)
            deadline.reminded_at = now
        if deadline.escalated_at is None and now >= clock.due(
                deadline.clock, deadline.due_at, _grace(deadline.step)):
            for person in _escalation_targets(session, deadline, request, day):
                if person.telegram_id is None:
                    added += mail_to("escalation", person,
                                     f"escalate:{deadline.id}:{person.id}", request, deadline)
                    continue
                added += tell("escalation", person.telegram_id,
                              f"escalate:{deadline.id}:{person.id}", request, deadline)
            deadline.escalated_at, deadline.escalation_level = now, deadline.escalation_level + 1
    for (kind, incident_id, step, chat_id), due in grouped.items():
        first = min(d.id for _, d in due)  # these deadlines are told once: a stable key
        text = render_text("chat/incident_deadline.txt.j2", zone, kind=kind,
                           incident=session.get(Incident, incident_id), step=STEPS[step],
                           due=[(r, d, now - d.due_at) for r, d in due]).strip()
        added += int(enqueue(session, key=f"{kind}-insiden:{incident_id}:{step}:{first}:"
                                          f"{chat_id}", chat_id=chat_id, kind=kind,
                             text=text, now=now))
    return added
