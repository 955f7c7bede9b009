"""The office's working time (issue 20): opening hours per weekday, Indonesia's national
holidays and joint leave days (cuti bersama) from the `holidays` package, and the
office's own days off from the inventory. A Mutu Baku counted in working time runs only
while the office is open: a span of whole days moves to the same hour of the n-th next
working day; what is left of it (or a span under a day) counts in open minutes."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

# Monday .. Sunday: the opening hours of a day, or None when the office is closed.
Hours = tuple[tuple[time, time] | None, ...]
DEFAULT_HOURS: Hours = (
    (time(7, 30), time(16, 0)), (time(7, 30), time(16, 0)), (time(7, 30), time(16, 0)),
    (time(7, 30), time(16, 0)), (time(7, 30), time(16, 30)), None, None,
)
@functools.cache
def _national(joint_leave: bool) -> holidays.HolidayBase:
    """Indonesia's holidays (and cuti bersama), built once per process: the calendar is
    made again for every deadline set, and the package fills its years as they are asked."""
    categories = ("public", "government") if joint_leave else ("public",)
    return holidays.country_holidays("ID", categories=categories, language="id")


MAX_DAYS = 3 * 366  # a span that would run past this finds no end: a calendar with no open day


@dataclass(frozen=True)
class Calendar:
    """When the office works. `national`: Indonesia's public holidays and, with
    `joint_leave`, the government's cuti bersama; `days_off`: the office's own list (cuti
    bersama not yet in the package, local days), by date."""

    zone: ZoneInfo
    hours: Hours = DEFAULT_HOURS
    days_off: frozenset[date] = frozenset()
    national: bool = True
    joint_leave: bool = True
    names: tuple[tuple[date, str], ...] = field(default=(), compare=False)

    @property
    def _package(self) -> holidays.HolidayBase:
        return _national(self.joint_leave)

    def day_off(self, day: date) -> str | None:
        """Why the office is closed that day (a holiday's name, "akhir pekan"), or None."""
        for when, name in self.names:
            if when == day:
                return name
        if day in self.days_off:
            return "libur kantor"
        if self.national and day in self._package:
            return str(self._package.get(day))
        if self.hours[day.weekday()] is None:
            return "akhir pekan"
        return None

    def opening(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's open interval (aware, office time), or None when closed."""
        hours = self.hours[day.weekday()]
        if hours is None or self.day_off(day) is not None:
            return None
        return (datetime.combine(day, hours[0], self.zone),
                datetime.combine(day, hours[1], self.zone))

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        span = self.opening(local.date())
        return span is not None and span[0] <= local < span[1]

    def _open_days(self, start: date) -> Iterator[tuple[datetime, datetime]]:
        for n in range(MAX_DAYS):
            span = self.opening(start + timedelta(days=n))
            if span is not None:
                yield span
        raise ValueError("kalender kantor tidak punya hari kerja dalam tiga tahun")

    def next_open(self, moment: datetime) -> datetime:
        """`moment` if the office is open then, else when it next opens."""
        local = moment.astimezone(self.zone)
        for begin, end in self._open_days(local.date()):
            if local < end:
                return max(local, begin)
        raise AssertionError("unreachable")

    def add(self, start: datetime, span: timedelta) -> datetime:
        """When `span` of working time after `start` ends (aware, office time)."""
        moment = self.next_open(start)
        days, rest = span.days, span - timedelta(days=span.days)
        for _ in range(days):
            moment = self._same_hour_next_day(moment)
        left = rest
        for begin, end in self._open_days(moment.date()):
            begin = max(begin, moment)
            if begin >= end:
                continue
            if begin + left <= end:
                return begin + left
            left -= end - begin
        raise AssertionError("unreachable")

    def _same_hour_next_day(self, moment: datetime) -> datetime:
        """The same office hour on the next working day (its closing, if it shuts earlier)."""
        for begin, end in self._open_days(moment.date() + timedelta(days=1)):
            wanted = datetime.combine(begin.date(), moment.timetz().replace(tzinfo=None),
                                      self.zone)
            return min(max(wanted, begin), end)
        raise AssertionError("unreachable")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (zero when `end` is not after `start`)."""
        if end <= start:
            return timedelta()
        total = timedelta()
        local_end = end.astimezone(self.zone)
        for begin, close in self._open_days(start.astimezone(self.zone).date()):
            if begin >= local_end:
                break
            lo, hi = max(begin, start), min(close, local_end)
            if hi > lo:
                total += hi - lo
        return total


def parse_hours(days: Iterable[tuple[time, time] | None]) -> Hours:
    hours = tuple(days)
    if len(hours) != 7:
        raise ValueError("jam kerja harus untuk tujuh hari, Senin sampai Minggu")
    return hours
