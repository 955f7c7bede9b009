"""The numbering register under load: unique, gapless per unit and year, never reused."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import LetterNumber
from bot.services.audit import verify_chain
from bot.services.numbering import allocate_number, cancel_number
from letters.numbering import NumberParts, format_number
from tests.support.office import NOW

WITA = ZoneInfo("Asia/Makassar")
PATTERN = "{security}-{seq}/{unit}/{classification}/{month:02d}/{year}"


def _allocate(url: str, count: int, unit: str = "Diskominfo") -> list[str]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        return [allocate_number(sessions, kind="surat_pemberitahuan", pattern=PATTERN,
                                unit=unit, classification="000.6", security="B", now=NOW,
                                zone=WITA).number for _ in range(count)]
    finally:
        engine.dispose()


def _numbers(container: Container, unit: str = "Diskominfo",
             year: int = 2026) -> list[LetterNumber]:
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


def test_two_hundred_numbers_from_threads_and_processes_are_unique_and_gapless(
        container: Container) -> None:
    url = container.settings.database_url
    results: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        got = _allocate(url, 15)
        with lock:
            results.extend(got)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        from_processes = pool.starmap(_allocate, [(url, 20)] * 4)
    for t in threads:
        t.join()
    everything = results + [n for chunk in from_processes for n in chunk]
    assert len(everything) == 200 and len(set(everything)) == 200
    rows = _numbers(container)
    assert [r.seq for r in rows] == list(range(1, 201))
    assert {r.number for r in rows} == set(everything)
    assert rows[0].number == "B-1/Diskominfo/000.6/11/2026"
    with container.sessions() as session:
        assert verify_chain(session).ok


def test_a_cancelled_number_stays_and_is_never_given_again(container: Container) -> None:
    url = container.settings.database_url
    first = _allocate(url, 3)
    with container.unit_of_work() as session:
        cancel_number(session, first[1], "Salah ketik tujuan", NOW)
    after = _allocate(url, 1)
    assert after == ["B-4/Diskominfo/000.6/11/2026"]
    rows = _numbers(container)
    assert [(r.seq, r.status) for r in rows] == [(1, "issued"), (2, "cancelled"),
                                                  (3, "issued"), (4, "issued")]
    assert rows[1].note == "Salah ketik tujuan"


def test_each_unit_and_year_has_its_own_sequence(container: Container) -> None:
    url = container.settings.database_url
    _allocate(url, 2)
    assert _allocate(url, 1, unit="Setda") == ["B-1/Setda/000.6/11/2026"]
    engine = make_engine(url)
    new_year = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 1 January 2027, 00.30 WITA
    number = allocate_number(make_session_factory(engine), kind="laporan", pattern=PATTERN,
                             unit="Diskominfo", classification="000.6", security="B",
                             now=new_year, zone=WITA)
    engine.dispose()
    assert number.number == "B-1/Diskominfo/000.6/01/2027"
    assert [r.seq for r in _numbers(container)] == [1, 2]
