"""Put requests into any state directly, and count what the database holds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import AuditEvent, Deadline, Request, System
from bot.services.requests.records import ticket_for
from bot.workflow.rules import Actor
from bot.workflow.sop import State
from tests.support.clock import WITA
from tests.support.office import NOW

_AFTER_START = {State.RESTORING, State.RESTORED, State.VERIFIED, State.REPORT_SUBMITTED,
                State.REPORT_RATIFIED, State.NOTIFIED, State.ACKNOWLEDGED, State.RESTORE_FAILED,
                State.REOPENED}
_AFTER_REPORT = {State.REPORT_SUBMITTED, State.REPORT_RATIFIED, State.NOTIFIED,
                 State.ACKNOWLEDGED, State.REOPENED}


def place_request(session: Session, state: State, requester: Actor, kabid: Actor,
                  executor: Actor, system_code: str = "portal-pendidikan") -> Request:
    """A request of `requester` sitting in `state`, with the people a real path would set."""
    system = session.execute(select(System).where(System.code == system_code)).scalar_one()
    beyond_kadis = state not in {State.SUBMITTED, State.RETURNED, State.CANCELLED,
                                 State.REJECTED}
    request = Request(
        ticket=f"tmp-{state.value}", agency_id=system.agency_id, system_id=system.id,
        requester_id=requester.person_id, scope="database", reason="Basis data rusak",
        state=state.value, version=1, created_at=NOW, updated_at=NOW,
        kabid_id=kabid.person_id if beyond_kadis else None,
        executor_id=executor.person_id if state in _AFTER_START else None,
        report_author_id=executor.person_id if state in _AFTER_REPORT else None,
    )
    session.add(request)
    session.flush()
    request.ticket = ticket_for(request.id, NOW, WITA)
    session.flush()
    return request


@dataclass(frozen=True)
class Snapshot:
    state: str
    version: int
    events: int
    deadlines: int


PAPERWORK = ("document_issued", "number_allocated", "number_cancelled")


def snapshot(session: Session, request_id: int) -> Snapshot:
    request = session.get(Request, request_id, populate_existing=True)
    assert request is not None
    # Documents a state orders are made by a job in the background: not a change a tap made.
    events = session.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.request_id == request_id,
                                   AuditEvent.action.not_in(PAPERWORK))) or 0
    deadlines = session.scalar(select(func.count()).select_from(Deadline)
                               .where(Deadline.request_id == request_id)) or 0
    return Snapshot(request.state, request.version, events, deadlines)
