"""The tests' clock. A test that involves dates takes its time from here, or from a
container built on it, and computes what it expects from the same instant, so the suite
passes on any day of any year.

`NOW` is the real time when the run began, or the instant in `PULIH_TEST_CLOCK` (ISO 8601
with an offset, e.g. `2026-12-31T23:59:00+08:00`): `tests/test_any_day.py` runs the
date-sensitive tests (marked `dates`) at a year-end, a new year and a month-end that way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.demo.office_lab import latest_point

ENV = "PULIH_TEST_CLOCK"
WITA = ZoneInfo("Asia/Makassar")  # the test office's zone
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")


def start_of_run(environ: Mapping[str, str] = os.environ) -> datetime:
    """The instant in `PULIH_TEST_CLOCK`, or the real time now (whole seconds), in UTC."""
    raw = environ.get(ENV, "").strip()
    if not raw:
        return datetime.now(UTC).replace(microsecond=0)
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise ValueError(f"{ENV}={raw!r} needs an offset, e.g. 2026-12-31T23:59:00+08:00")
    return moment.astimezone(UTC)


NOW = start_of_run()


def running(start: datetime = NOW) -> Callable[[], datetime]:
    """A clock that reads `start` now and runs on in real time from there."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


class SetClock:
    """A clock that reads what the test set last (`clock.now = ...`): time jumps."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def office_day(days: int = 0, moment: datetime = NOW) -> date:
    """The office's calendar date `days` after `moment` (WITA)."""
    return moment.astimezone(WITA).date() + timedelta(days=days)


def month_year(moment: datetime = NOW) -> str:
    """'01/2027': the month and year a letter number issued at `moment` carries (the
    default patterns write the month with two digits)."""
    local = moment.astimezone(WITA)
    return f"{local.month:02d}/{local.year}"


def tanggal(day: date) -> str:
    """'2 Desember 2026', as documents and chats write a date (spelled out here, not
    borrowed from the code under test)."""
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


LAST_NIGHT = latest_point(NOW, WITA)  # SIMPEG's restore point: 02.00 last night


def wita(moment: datetime) -> str:
    """'2 Desember 2026 12.05 WITA', as chats, documents and the CLI write an instant."""
    local = moment.astimezone(WITA)
    return f"{tanggal(local.date())} {local:%H.%M} WITA"


def ticket(number: int = 1, moment: datetime = NOW) -> str:
    """The ticket of the `number`th request filed in the year of `moment` (WITA)."""
    return f"PLH-{moment.astimezone(WITA).year}-{number:05d}"
