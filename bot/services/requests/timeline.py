"""A request's timeline: its events, and each SOP step's time against its Mutu Baku."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import AuditEvent, Deadline, Request
from bot.services.office.calendar import WORKING, office_clock
from bot.workflow.sop import STEPS, Step


@dataclass(frozen=True)
class StepTime:
    """How long a step has taken so far, against its service standard."""

    step: Step
    spent: timedelta | None  # None: the step has not started
    running: bool
    working: timedelta | None = None  # of that, in the office's working time, for a step
    # whose Mutu Baku counts in working time (None: it counts in clock time)

    @property
    def counted(self) -> timedelta | None:
        """The time the Mutu Baku is measured against."""
        return self.working if self.working is not None else self.spent

    @property
    def over(self) -> bool:
        return self.counted is not None and self.counted > self.step.service_time


@dataclass(frozen=True)
class Timeline:
    request: Request
    events: list[AuditEvent]
    steps: list[StepTime]


def timeline(session: Session, request: Request, now: datetime, zone: ZoneInfo) -> Timeline:
    """Events in order, and the time each step (2-8, and 1 on revision) has used: in clock
    time, and in working time for a step the office counts so."""
    clock = office_clock(session, zone)
    events = list(session.execute(
        select(AuditEvent).where(AuditEvent.request_id == request.id).order_by(AuditEvent.seq)
    ).scalars())
    spent: dict[int, timedelta] = {}
    working: dict[int, timedelta] = {}
    running: set[int] = set()
    for d in session.execute(
        select(Deadline).where(Deadline.request_id == request.id).order_by(Deadline.id)
    ).scalars():
        end = d.closed_at or now
        spent[d.step] = spent.get(d.step, timedelta()) + (end - d.started_at)
        if d.clock == WORKING:
            working[d.step] = working.get(d.step, timedelta()) + clock.spent(
                d.clock, d.started_at, end)
        if d.closed_at is None:
            running.add(d.step)
    steps = [StepTime(step, spent.get(n), n in running, working.get(n))
             for n, step in sorted(STEPS.items())]
    return Timeline(request, events, steps)
