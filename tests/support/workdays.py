"""Days for the working-time tests, found from the tests' clock: Indonesia's holidays as
the `holidays` package knows them, and the next Friday before a Monday holiday."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import holidays

from tests.support.clock import NOW, WITA


def national(year: int) -> dict[date, str]:
    found = holidays.country_holidays("ID", years=[year - 1, year, year + 1, year + 2],
                                      categories=("public", "government"), language="id")
    return dict(found.items())


def friday_before_a_monday_holiday() -> tuple[datetime, date]:
    today = NOW.astimezone(WITA).date()
    days = national(today.year)
    for n in range(1, 3 * 366):
        monday = today + timedelta(days=n)
        friday = monday - timedelta(days=3)
        tuesday = monday + timedelta(days=1)
        if monday.weekday() == 0 and monday in days and friday not in days and \
                tuesday not in days and friday > today:
            return datetime.combine(friday, time(15, 50), WITA), monday
    raise AssertionError("no Monday holiday within three years")
