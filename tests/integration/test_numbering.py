"""The numbering register under load: unique, gapless per unit and year, never reused."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap import Container
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import LetterNumber
from bot.services.audit.chain import verify_chain
from bot.services.audit.key import KeySource, key_path
from bot.services.documents.numbering import allocate_number, cancel_number
from letters.numbering import NumberParts, format_number
from tests.support.clock import month_year
from tests.support.office import NOW

WITA = ZoneInfo("Asia/Makassar")
MONTH = month_year()  # of every number allocated at NOW
PATTERN = "{security}-{seq}/{unit}/{classification}/{month:02d}/{year}"


def _sessions(url: str, data_dir: Path) -> tuple[Engine, sessionmaker[Session]]:
    """What bootstrap wires, rebuilt in a thread or another process: the database and
    the office's activity-record key."""
    engine = make_engine(url)
    return engine, make_session_factory(engine, {"audit_key": KeySource(key_path(data_dir))})


def _allocate(url: str, data_dir: Path, count: int, unit: str = "Diskominfo") -> list[str]:
    engine, sessions = _sessions(url, data_dir)
    try:
        return [allocate_number(sessions, kind="surat_pemberitahuan", pattern=PATTERN,
                                unit=unit, classification="000.6", security="B", now=NOW,
                                zone=WITA).number for _ in range(count)]
    finally:
        engine.dispose()


def _numbers(container: Container, unit: str = "Diskominfo",
             year: int = NOW.astimezone(WITA).year) -> list[LetterNumber]:
    with container.sessions() as session:
        return list(session.execute(select(LetterNumber).where(
            LetterNumber.unit == unit, LetterNumber.year == year).order_by(LetterNumber.seq)
        ).scalars())


def test_the_sop_sample_number_is_reproduced_and_roman_months_work() -> None:
    parts = NumberParts(441, "Diskominfo", "000.6", "B", 6, 2025)
    assert format_number(PATTERN, parts) == "B-441/Diskominfo/000.6/06/2025"
    assert format_number("{seq}/{unit}/{month_roman}/{year}", parts) == \
        "441/Diskominfo/VI/2025"
    for bad in ("{unit}/{year}", "{seq}/{rahasia}", "{seq}/{0}"):
        with pytest.raises(ValueError):
            format_number(bad, parts)


@pytest.mark.dates
def test_two_hundred_numbers_from_threads_and_processes_are_unique_and_gapless(
        container: Container) -> None:
    url, data = container.settings.database_url, container.settings.data_dir
    results: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        got = _allocate(url, data, 15)
        with lock:
            results.extend(got)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        from_processes = pool.starmap(_allocate, [(url, data, 20)] * 4)
    for t in threads:
        t.join()
    everything = results + [n for chunk in from_processes for n in chunk]
    assert len(everything) == 200 and len(set(everything)) == 200
    rows = _numbers(container)
    assert [r.seq for r in rows] == list(range(1, 201))
    assert {r.number for r in rows} == set(everything)
    assert rows[0].number == f"B-1/Diskominfo/000.6/{MONTH}"
    with container.sessions() as session:
        assert verify_chain(session).ok


@pytest.mark.dates
def test_a_cancelled_number_stays_and_is_never_given_again(container: Container) -> None:
    url, data = container.settings.database_url, container.settings.data_dir
    first = _allocate(url, data, 3)
    with container.unit_of_work() as session:
        cancel_number(session, first[1], "Salah ketik tujuan", NOW)
    after = _allocate(url, data, 1)
    assert after == [f"B-4/Diskominfo/000.6/{MONTH}"]
    rows = _numbers(container)
    assert [(r.seq, r.status) for r in rows] == [(1, "issued"), (2, "cancelled"),
                                                  (3, "issued"), (4, "issued")]
    assert rows[1].note == "Salah ketik tujuan"


@pytest.mark.dates
def test_each_unit_and_year_has_its_own_sequence(container: Container) -> None:
    url, data = container.settings.database_url, container.settings.data_dir
    _allocate(url, data, 2)
    assert _allocate(url, data, 1, unit="Setda") == [f"B-1/Setda/000.6/{MONTH}"]
    engine, sessions = _sessions(url, data)
    next_year = NOW.astimezone(WITA).year + 1
    new_year = datetime(next_year, 1, 1, 0, 30, tzinfo=WITA)  # 00.30 on the next 1 January
    number = allocate_number(sessions, kind="laporan", pattern=PATTERN,
                             unit="Diskominfo", classification="000.6", security="B",
                             now=new_year, zone=WITA)
    engine.dispose()
    assert number.number == f"B-1/Diskominfo/000.6/01/{next_year}"
    assert [r.seq for r in _numbers(container)] == [1, 2]
