"""Mutu Baku clocks: each state's step gets a deadline row; jobs only read these rows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Deadline, Request
from bot.services.office.calendar import office_clock
from bot.workflow.sop import STEPS, WAITING, State
from letters.timefmt import as_utc


def open_deadline(session: Session, request_id: int) -> Deadline | None:
    """The deadline currently running for the request, if any."""
    return session.execute(
        select(Deadline).where(Deadline.request_id == request_id, Deadline.closed_at.is_(None))
        .order_by(Deadline.id.desc())
    ).scalars().first()


def set_deadline_for(session: Session, request_id: int, state: State,
                     now: datetime, zone: ZoneInfo) -> Deadline | None:
    """Close the running clock unless `state` continues the same step; start the next one,
    due after the step's Mutu Baku in the office's working time or in clock time, as the
    office counts that step (bot.services.office.calendar)."""
    waiting = WAITING.get(state)
    current = open_deadline(session, request_id)
    if current is not None and waiting is not None and current.step == waiting.step:
        current.role = waiting.role.value
        return current
    if current is not None:
        current.closed_at = now
    if waiting is None:
        return None
    clock = office_clock(session, zone)
    request = session.get(Request, request_id)
    always_on = bool(request is not None and request.system.restore_24_7)
    kind = clock.clock_for(waiting.step, always_on)
    deadline = Deadline(
        request_id=request_id,
        step=waiting.step,
        role=waiting.role.value,
        started_at=now,
        due_at=as_utc(clock.due(kind, now, STEPS[waiting.step].service_time)),
        escalation_level=0,
        clock=kind,
    )
    session.add(deadline)
    session.flush()
    return deadline


def due_deadlines(session: Session, now: datetime) -> list[Deadline]:
    """Open deadlines that have passed (for reminders and escalation)."""
    return list(session.execute(
        select(Deadline).where(Deadline.closed_at.is_(None), Deadline.due_at <= now)
        .order_by(Deadline.due_at)
    ).scalars())
