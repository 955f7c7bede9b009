"""What people see of the requests: which ones they may look at, and which wait on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.db.models import Deadline, Request
from bot.services.requests.deadlines import open_deadline
from bot.services.requests.records import facts_of, find_request
from bot.workflow.refusals import Refusal, WrongAgency
from bot.workflow.rules import Actor, authorize
from bot.workflow.sop import TERMINAL_STATES, Action, Role, State, transitions_from

# Actions that are a choice, not the work a request waits for.
_OPTIONAL = frozenset({Action.CANCEL})


def visible_request(session: Session, actor: Actor, key: str) -> Request:
    """The request `key` if `actor` may see it: agency staff see their agency's requests
    only; the office's officials, team, admins and auditors see all."""
    request = find_request(session, key)
    if actor.roles <= {Role.OPD} and request.agency_id != actor.agency_id:
        raise WrongAgency()
    return request


@dataclass(frozen=True)
class Waiting:
    request: Request
    deadline: Deadline | None
    actions: tuple[Action, ...]


def waiting_on(session: Session, actor: Actor, now: datetime, zone: ZoneInfo) -> list[Waiting]:
    """Open requests in which `actor` may take a step now (by the same rules that decide
    the step), the most urgent first."""
    open_states = [s.value for s in State if s not in TERMINAL_STATES]
    rows = session.execute(select(Request).where(Request.state.in_(open_states))
                           .options(selectinload(Request.system), selectinload(Request.agency))
                           .order_by(Request.id)).scalars().all()
    waiting: list[Waiting] = []
    for request in rows:
        facts = facts_of(session, request)
        allowed = []
        for transition in transitions_from(State(request.state)):
            if transition.action in _OPTIONAL:
                continue
            try:
                authorize(transition.action, facts, actor, now, zone, reason="-")
            except Refusal:
                continue
            allowed.append(transition.action)
        if allowed:
            waiting.append(Waiting(request, open_deadline(session, request.id), tuple(allowed)))
    far = datetime.max.replace(tzinfo=now.tzinfo)
    waiting.sort(key=lambda w: w.deadline.due_at if w.deadline else far)
    return waiting
