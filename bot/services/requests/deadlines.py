"""Mutu Baku clocks: each state's step gets a deadline row; jobs only read these rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Deadline
from bot.workflow.sop import STEPS, WAITING, State


def open_deadline(session: Session, request_id: int) -> Deadline | None:
    """The deadline currently running for the request, if any."""
    return session.execute(
        select(Deadline).where(Deadline.request_id == request_id, Deadline.closed_at.is_(None))
        .order_by(Deadline.id.desc())
    ).scalars().first()


def set_deadline_for(session: Session, request_id: int, state: State,
                     now: datetime) -> Deadline | None:
    """Close the running clock unless `state` continues the same step; start the next one."""
    waiting = WAITING.get(state)
    current = open_deadline(session, request_id)
    if current is not None and waiting is not None and current.step == waiting.step:
        current.role = waiting.role.value
        return current
    if current is not None:
        current.closed_at = now
    if waiting is None:
        return None
    deadline = Deadline(
        request_id=request_id,
        step=waiting.step,
        role=waiting.role.value,
        started_at=now,
        due_at=now + STEPS[waiting.step].service_time,
        escalation_level=0,
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
