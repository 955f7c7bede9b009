"""The office's working-time calendar against a plain oracle written here: open minutes
counted one by one (default hours Mon-Thu 07.30-16.00, Fri 07.30-16.30 WITA; Indonesia's
holidays and cuti bersama from the `holidays` package; the office's own days off). The
days come from the tests' clock: the next Friday before a Monday holiday, this year's end."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from bot.workflow.worktime import Calendar
from tests.support.clock import NOW, WITA
from tests.support.workdays import friday_before_a_monday_holiday, national

pytestmark = pytest.mark.dates

HOURS = {0: (time(7, 30), time(16)), 1: (time(7, 30), time(16)), 2: (time(7, 30), time(16)),
         3: (time(7, 30), time(16)), 4: (time(7, 30), time(16, 30))}


def is_open(moment: datetime, off: set[date]) -> bool:
    hours = HOURS.get(moment.weekday())
    return (hours is not None and moment.date() not in off
            and hours[0] <= moment.time() < hours[1])


def minutes_after(start: datetime, minutes: int, off: set[date]) -> datetime:
    """The oracle: walk a minute at a time, counting the open ones."""
    moment = start
    while not is_open(moment, off):
        moment += timedelta(minutes=1)
    while minutes:
        if is_open(moment, off):
            minutes -= 1
        moment += timedelta(minutes=1)
        while minutes and not is_open(moment, off):
            moment += timedelta(minutes=1)
    return moment


def open_minutes(start: datetime, end: datetime, off: set[date]) -> int:
    count, moment = 0, start
    while moment < end:
        count += is_open(moment, off)
        moment += timedelta(minutes=1)
    return count


def test_a_request_filed_friday_at_15_50_before_a_monday_holiday_is_due_on_the_right_minute(
        ) -> None:
    friday, monday = friday_before_a_monday_holiday()
    off = set(national(friday.year))
    calendar = Calendar(WITA)
    assert calendar.day_off(monday) is not None  # named by the package
    # 30 minutes: Friday closes at 16.30, so still Friday.
    assert calendar.add(friday, timedelta(minutes=30)) == friday.replace(hour=16, minute=20)
    # 60 minutes: 40 on Friday, the holiday and the weekend skipped, 20 on Tuesday.
    due = calendar.add(friday, timedelta(minutes=60))
    assert due == minutes_after(friday, 60, off)
    assert due.date() == monday + timedelta(days=1) and due.time() == time(7, 50)
    # A day: the same hour of the next working day.
    assert calendar.add(friday, timedelta(days=1)) == datetime.combine(
        monday + timedelta(days=1), time(15, 50), WITA)
    assert not calendar.is_open(datetime.combine(monday, time(10), WITA))
    assert calendar.between(friday, due) == timedelta(minutes=60)


def test_the_year_end_skips_christmas_and_the_offices_cuti_bersama_days() -> None:
    year = NOW.astimezone(WITA).year
    christmas_eve = date(year, 12, 24)
    # The office's own list: cuti bersama on the 24th (decreed each year; the package may
    # not know it yet) and on the 31st.
    own = frozenset({christmas_eve, date(year, 12, 31)})
    calendar = Calendar(WITA, days_off=own)
    off = set(national(year)) | own
    assert date(year, 12, 25) in off and date(year + 1, 1, 1) in off
    start = datetime.combine(date(year, 12, 23), time(15, 0), WITA)
    for minutes in (10, 45, 90, 300, 600):
        assert calendar.add(start, timedelta(minutes=minutes)) == minutes_after(
            start, minutes, off), minutes
    end = datetime.combine(date(year + 1, 1, 5), time(10, 0), WITA)
    assert calendar.between(start, end) == timedelta(minutes=open_minutes(start, end, off))
    for day in (christmas_eve, date(year, 12, 25), date(year, 12, 31), date(year + 1, 1, 1)):
        assert calendar.opening(day) is None, day
    assert calendar.day_off(christmas_eve) == "libur kantor"
    assert calendar.day_off(date(year, 12, 25))  # the package's name for it


def test_outside_hours_a_clock_starts_at_the_next_opening_and_custom_hours_are_kept() -> None:
    calendar = Calendar(WITA, national=False)
    sunday = NOW.astimezone(WITA).date()
    sunday += timedelta(days=(6 - sunday.weekday()) % 7)
    start = datetime.combine(sunday, time(23), WITA)
    monday = sunday + timedelta(days=1)
    assert calendar.add(start, timedelta(minutes=30)) == datetime.combine(
        monday, time(8), WITA)
    saturday_office = Calendar(WITA, hours=(None, None, None, None, None,
                                            (time(8), time(12)), None), national=False)
    assert saturday_office.add(start, timedelta(hours=5)) == datetime.combine(
        sunday + timedelta(days=13), time(9), WITA)
