"""The office's working-time calendar as the core reads it: written from the inventory's
[office_hours] by the inventory sync (so that whatever sets a deadline, with only the
database at hand, counts it the office's way), read back as a `Calendar` and the steps
whose Mutu Baku count in working time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.db.models import OfficeSetting
from bot.inventory.model import OfficeHours
from bot.workflow.worktime import Calendar

KEY = "calendar"
WORKING, CLOCK = "kerja", "jam"  # deadlines.clock
RESTORE_STEPS = (4, 5)  # what a system's restore_24_7 keeps on clock time


def store_calendar(session: Session, hours: OfficeHours) -> None:
    value = json.dumps({
        "hours": [[h[0].strftime("%H:%M"), h[1].strftime("%H:%M")] if h else None
                  for h in hours.hours],
        "working_steps": sorted(hours.working_steps), "national": hours.national,
        "joint_leave": hours.joint_leave,
        "days_off": [[d.isoformat(), name] for d, name in hours.days_off]})
    row = session.get(OfficeSetting, KEY)
    if row is None:
        session.add(OfficeSetting(key=KEY, value=value))
    elif row.value != value:
        row.value = value


@dataclass(frozen=True)
class OfficeClock:
    """The calendar, and which steps count in working time."""

    calendar: Calendar
    working_steps: frozenset[int]

    def clock_for(self, step: int, always_on: bool = False) -> str:
        """How step `step`'s Mutu Baku counts (for a system flagged restore_24_7, its
        restore steps always on the clock)."""
        if step in self.working_steps and not (always_on and step in RESTORE_STEPS):
            return WORKING
        return CLOCK

    def due(self, clock: str, start: datetime, span: timedelta) -> datetime:
        return self.calendar.add(start, span) if clock == WORKING else start + span

    def spent(self, clock: str, start: datetime, end: datetime) -> timedelta:
        return self.calendar.between(start, end) if clock == WORKING else end - start


def office_clock(session: Session, zone: ZoneInfo) -> OfficeClock:
    """The office's clock (every step on clock time when none was stored)."""
    row = session.get(OfficeSetting, KEY)
    if row is None:
        return OfficeClock(Calendar(zone), frozenset())
    data = json.loads(row.value)
    hours = tuple((time.fromisoformat(h[0]), time.fromisoformat(h[1])) if h else None
                  for h in data["hours"])
    named = tuple((date.fromisoformat(d), name) for d, name in data["days_off"])
    return OfficeClock(Calendar(zone, hours, frozenset(d for d, _ in named), data["national"],
                                data["joint_leave"], named),
                       frozenset(data["working_steps"]))
