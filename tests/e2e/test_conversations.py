"""Half-finished conversations and taps survive a restart of the bot: the /mohon form
and a typed reason carry on where the person was; a tap the bot received but never
answered before it died is answered after the restart; a message it received but never
handled is handled then; an update Telegram hands over twice is handled once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram import Update

from bot.bootstrap import Container
from bot.db.models import Conversation, InboxUpdate, Request
from bot.demo.standin import FakeTelegram, fake_telegram
from bot.services.chats.arrivals import Arrival, receive
from handlers.arrivals import Arrivals
from tests.e2e.test_request_form import Chat
from tests.support.running_bot import (
    file_request,
    has_messages,
    linked_office,
    running_bot,
    until,
)

PEOPLE = {"requester": 7701, "kadis": 7702, "kabid_a": 7703}
REQUESTER, KADIS = PEOPLE["requester"], PEOPLE["kadis"]


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram]]:
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, PEOPLE)
        yield container, fake
        container.close()


def test_a_restart_in_the_middle_of_mohon_carries_on_after_the_reason(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    chat = Chat(fake, REQUESTER)

    async def before() -> None:
        async with running_bot(container):
            assert "Sistem mana" in await chat.say("/mohon")
            await chat.tap("Portal Data Pendidikan")
            await chat.settle(2)
            await chat.tap("Database")
            await chat.settle(3)
            await chat.tap("Backup terakhir")
            await chat.settle(4)
            assert "dampaknya" in await chat.say("Tabel nilai siswa terhapus")

    async def after() -> None:
        async with running_bot(container):
            assert "narahubung" in await chat.say("Rapor tidak dapat dicetak")
            assert "Surat permohonan" in await chat.say("Andi, 0812-5555")
            summary = await chat.settle(await chat.tap("Buatkan surat permohonan") + 1)
            assert "Tabel nilai siswa terhapus" in summary  # the answer from before
            await chat.tap("Kirim")
            await until(fake, lambda: any("Nomor tiket" in t
                                          for t in fake.chat(REQUESTER).texts()))
            await until(fake, has_messages(fake, KADIS, 1))

    asyncio.run(before())
    asyncio.run(after())
    with container.sessions() as session:
        request = session.execute(select(Request)).scalar_one()
        assert (request.reason, request.impact, request.contact) == (
            "Tabel nilai siswa terhapus", "Rapor tidak dapat dicetak", "Andi, 0812-5555")
        assert session.execute(select(Conversation)).first() is None  # the form is over
    texts = fake.chat(REQUESTER).texts()
    for question in ("Sistem: Portal", "Tuliskan alasan", "dampaknya", "narahubung"):
        assert sum(question in t for t in texts) == 1, (question, texts)


def test_a_restart_while_a_reason_is_awaited_still_takes_the_reason(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    request_id = file_request(container).id
    kadis = Chat(fake, KADIS)

    async def before() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, KADIS, 1))
            await kadis.tap("Kembalikan")
            await kadis.settle(2)

    async def after() -> None:
        async with running_bot(container):
            assert "Pemohon diberi tahu" in await kadis.say("Lampirkan surat bertanda tangan")
            await until(fake, lambda: any("Lampirkan surat" in t
                                          for t in fake.chat(REQUESTER).texts()))

    asyncio.run(before())
    asyncio.run(after())
    with container.sessions() as session:
        assert session.get(Request, request_id).state == "returned"  # type: ignore[union-attr]
    card = fake.chat(KADIS).texts()[0]
    assert card.startswith("Dikembalikan oleh") and "Lampirkan surat" in card


def _left_by_a_crash(container: Container, update: dict[str, object]) -> None:
    """What a bot killed right after receiving `update` leaves: recorded, not handled."""
    with container.unit_of_work() as session:
        kind = "callback" if "callback_query" in update else "message"
        receive(session, [Arrival(int(update["update_id"]), kind,  # type: ignore[call-overload]
                                  update)], container.clock())


def test_a_tap_the_bot_died_before_answering_is_answered_after_the_restart(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    file_request(container)
    card = fake.placeholder(KADIS, "kartu disposisi")
    _left_by_a_crash(container, {"update_id": 900001, "callback_query": {
        "id": "cq-before-crash", "chat_instance": str(KADIS), "data": "v1:d:1:1:2",
        "from": {"id": KADIS, "is_bot": False, "first_name": "Kadis"},
        "message": fake.chat(KADIS).messages[card]}})

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, lambda: "cq-before-crash" in fake.answered)

    asyncio.run(scenario())
    assert "ketuk lagi" in fake.answered["cq-before-crash"]["text"]
    with container.sessions() as session:
        assert session.execute(select(Request.state)).scalar_one() == "submitted"  # unchanged
        assert session.get(InboxUpdate, 900001).state == "done"  # type: ignore[union-attr]


def test_a_message_the_bot_died_before_handling_is_handled_after_the_restart(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    _left_by_a_crash(container, {"update_id": 900002, "message": {
        "message_id": 55, "date": 1, "chat": {"id": REQUESTER, "type": "private"},
        "from": {"id": REQUESTER, "is_bot": False, "first_name": "Pemohon"},
        "text": "/mohon", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}})

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, REQUESTER, 1))
            await asyncio.sleep(1.5)  # and only once

    asyncio.run(scenario())
    assert [t for t in fake.chat(REQUESTER).texts() if "Sistem mana" in t] != []
    assert len(fake.chat(REQUESTER).texts()) == 1


def test_an_update_handed_over_twice_is_handled_once(
        office: tuple[Container, FakeTelegram]) -> None:
    """Telegram sends an update again when the confirmation of the first was lost in a
    crash: the second comes to nothing, even as a reply keyed anew."""
    container, fake = office

    async def scenario() -> None:
        async with running_bot(container) as application:
            update_id = fake.user_says(REQUESTER, "/mohon")
            await until(fake, has_messages(fake, REQUESTER, 1))
            with container.sessions() as session:
                row = session.get(InboxUpdate, update_id)
                assert row is not None and row.state == "done"
                payload = json.loads(row.payload)
            queue = Arrivals()
            queue.container = container
            again = Update.de_json(payload, application.bot)
            await queue.put(again)
            assert queue.qsize() == 0  # recognised, not queued for the handlers
            fresh = Update.de_json({**payload, "update_id": update_id + 1000}, application.bot)
            await queue.put(fresh)
            assert queue.qsize() == 1  # a new one is

    asyncio.run(scenario())
    assert len(fake.chat(REQUESTER).texts()) == 1
