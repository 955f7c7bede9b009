"""Deadlines that survive restarts, step 8, and a restart in the middle of the flow: the
Application is stopped and a new one started on the same database; what fell due while
it was down fires once, and the flow continues."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import Deadline, Request
from bot.demo.standin import FakeTelegram, fake_telegram
from bot.services.audit import chain as audit
from bot.services.office.self_backup import backups, daily_self_backup
from bot.services.people.actors import actor_by_nip
from bot.services.requests.notify import notify_move
from bot.workflow.sop import State
from tests.integration.helpers import place_request
from tests.support.clock import SetClock, wita
from tests.support.office import NIPS, NOW
from tests.support.running_bot import file_request, has_messages, linked_office, running_bot, until

TEAM = -1001000000001
PEOPLE = {"requester": 7201, "kadis": 7202, "plh_kadis": 7203, "kabid_a": 7204,
          "admin": 7205}



@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram, SetClock]]:
    clock = SetClock(NOW)
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, PEOPLE, clock)
        yield container, fake, clock
        container.close()


def texts(fake: FakeTelegram, who: str) -> list[str]:
    return fake.chat(PEOPLE[who]).texts()


@pytest.mark.dates
def test_a_deadline_that_fell_while_down_fires_once_after_restart(
        office: tuple[Container, FakeTelegram, SetClock]) -> None:
    container, fake, clock = office
    file_request(container, "Rusak")

    async def first_run() -> None:  # the cards go out; nothing is due yet
        async with running_bot(container):
            await until(fake, has_messages(fake, PEOPLE["kadis"], 1))
            await until(fake, has_messages(fake, PEOPLE["plh_kadis"], 1))
            await asyncio.sleep(1.5)  # several sweeps: still nothing due

    asyncio.run(first_run())
    assert len(texts(fake, "kadis")) == 1 and "LANGKAH 2" in texts(fake, "kadis")[0]

    clock.now = NOW + timedelta(hours=2)  # the bot was down past the 30-minute deadline

    async def second_run() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, PEOPLE["kadis"], 2))
            await until(fake, has_messages(fake, PEOPLE["plh_kadis"], 3))
            await asyncio.sleep(1.5)  # more sweeps change nothing

    asyncio.run(second_run())

    async def third_run() -> None:  # another restart: still nothing twice
        async with running_bot(container):
            await asyncio.sleep(1.5)

    asyncio.run(third_run())
    kadis, plh = texts(fake, "kadis"), texts(fake, "plh_kadis")
    assert len(kadis) == 2 and "PENGINGAT - batas waktu langkah 2" in kadis[1]
    assert wita(NOW + timedelta(minutes=30)) in kadis[1]
    assert len(plh) == 3  # the card, the reminder, and the escalation to the Plh.
    assert "ESKALASI - langkah 2 terlambat 1 jam 30 menit" in plh[2]
    with container.sessions() as session:
        deadline = session.execute(select(Deadline).where(Deadline.closed_at.is_(None))
                                   ).scalar_one()
        assert deadline.reminded_at is not None and deadline.escalation_level == 1


def test_the_flow_continues_after_a_restart_mid_flow(
        office: tuple[Container, FakeTelegram, SetClock]) -> None:
    container, fake, _ = office
    request_id = file_request(container, "Rusak").id

    async def before_restart() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, PEOPLE["kadis"], 1))

    asyncio.run(before_restart())
    card = next(iter(fake.chat(PEOPLE["kadis"]).messages.values()))
    data = next(b["callback_data"] for row in card["reply_markup"]["inline_keyboard"]
                for b in row if "Fajar Setiawan" in b["text"])

    async def after_restart() -> None:  # the card from before the restart still works
        async with running_bot(container):
            tap = fake.user_taps(PEOPLE["kadis"], PEOPLE["kadis"], card["message_id"], data)
            await until(fake, lambda: tap in fake.answered)
            await until(fake, has_messages(fake, PEOPLE["kabid_a"], 1))

    asyncio.run(after_restart())
    assert "LANGKAH 3" in texts(fake, "kabid_a")[0]
    with container.sessions() as session:
        stored = session.get(Request, request_id)
        assert stored is not None and stored.state == State.DISPOSED_TO_KABID.value
    assert len(texts(fake, "kadis")) == 1  # no card twice across the restart


@pytest.mark.dates
@pytest.mark.parametrize(("verdict", "state"), [("Diterima / Sesuai", State.ACKNOWLEDGED),
                                                ("Belum sesuai", State.REOPENED)])
def test_step_eight_is_confirmed_or_reopened_by_the_requester(
        office: tuple[Container, FakeTelegram, SetClock], verdict: str, state: State) -> None:
    container, fake, _ = office
    with container.unit_of_work() as session:
        kabid = actor_by_nip(session, NIPS["kabid_a"])
        request = place_request(session, State.NOTIFIED,
                                actor_by_nip(session, NIPS["requester"]), kabid, kabid)
        notify_move(session, request, NOW, container.settings.timezone, TEAM)
        request_id = request.id

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, PEOPLE["requester"], 1))
            card = next(iter(fake.chat(PEOPLE["requester"]).messages.values()))
            data = next(b["callback_data"] for row in card["reply_markup"]["inline_keyboard"]
                        for b in row if b["text"] == verdict)
            tap = fake.user_taps(PEOPLE["requester"], PEOPLE["requester"],
                                 card["message_id"], data)
            await until(fake, lambda: tap in fake.answered)
            if state is State.REOPENED:
                await until(fake, has_messages(fake, PEOPLE["requester"], 2))
                fake.user_says(PEOPLE["requester"], "Menu nilai masih kosong")
                await until(fake, lambda: any("DIBUKA KEMBALI" in t
                                              for t in fake.chat(TEAM).texts()))
            else:
                await until(fake, lambda: "Diterima dan sesuai" in texts(fake, "requester")[0])

    asyncio.run(scenario())
    assert "LANGKAH 8" in texts(fake, "requester")[0]
    with container.sessions() as session:
        stored = session.get(Request, request_id)
        assert stored is not None and stored.state == state.value
    if state is State.REOPENED:
        team = next(t for t in fake.chat(TEAM).texts() if "DIBUKA KEMBALI" in t)
        assert "Menu nilai masih kosong" in team


def test_the_activity_record_anchor_reaches_the_team_group_each_day_and_proves_the_record(
        office: tuple[Container, FakeTelegram, SetClock]) -> None:
    container, fake, clock = office
    file_request(container, "Rusak")

    def anchors() -> list[str]:
        return [t for t in fake.chat(TEAM).texts() if "JANGKAR CATATAN KEGIATAN" in t]

    async def one_day(count: int) -> None:
        async with running_bot(container, housekeeping_first=0.5):
            await until(fake, lambda: len(anchors()) >= count, what=f"{count} anchor(s)")

    asyncio.run(one_day(1))
    anchor = anchors()[0].split("--anchor ", 1)[1].strip()
    with container.sessions() as session:
        assert audit.check_anchor(session, anchor) is None
        assert anchor == "{}:{}".format(*audit.head_anchor(session))
    clock.now = NOW + timedelta(days=1)
    asyncio.run(one_day(2))
    assert len(anchors()) == 2


def test_pulih_backs_itself_up_once_a_day_and_tells_the_team_group(
        office: tuple[Container, FakeTelegram, SetClock]) -> None:
    container, fake, clock = office
    file_request(container, "Rusak")
    folder = container.settings.data_dir / "cadangan"

    def reports() -> list[str]:
        return [t for t in fake.chat(TEAM).texts() if t.startswith("CADANGAN PULIH")]

    async def one_day(count: int) -> None:
        async with running_bot(container, housekeeping_first=0.5):
            await until(fake, lambda: len(reports()) >= count, what=f"{count} report(s)")

    asyncio.run(one_day(1))
    assert "berhasil" in reports()[0] and "1 permohonan" in reports()[0]
    assert "catatan kegiatan utuh" in reports()[0]
    assert len(backups(folder)) == 1
    # Asked again the same day (a restart runs the daily work again): nothing more.
    assert daily_self_backup(container) is False
    assert len(backups(folder)) == 1
    clock.now = NOW + timedelta(days=1)
    asyncio.run(one_day(2))
    assert len(reports()) == 2 and len(backups(folder)) == 2
