"""Telegram fails (502, 429) on every kind of direct reply and rewrite: the form's
questions, the rewritten question after a choice, the summary, the ticket, the answer to
a tap, the question for a reason and the stamp on a card. Each still reaches the person,
once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import Request
from bot.demo.standin import FakeTelegram, Fault, fake_telegram
from tests.e2e.test_request_form import Chat
from tests.support.running_bot import has_messages, linked_office, running_bot, until

PEOPLE = {"requester": 7801, "kadis": 7802, "kabid_a": 7803}
REQUESTER, KADIS = PEOPLE["requester"], PEOPLE["kadis"]
BAD_GATEWAY = Fault(502, "Bad Gateway")
SLOW_DOWN = Fault(429, "Too Many Requests: retry after 1", retry_after=1)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram]]:
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, PEOPLE)
        yield container, fake
        container.close()


@pytest.mark.slow  # about 40 s: every kind of Telegram fault on every reply and rewrite
def test_every_reply_and_rewrite_reaches_the_person_once_through_faults(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    chat, kadis = Chat(fake, REQUESTER), Chat(fake, KADIS)

    def fail(*faults: tuple[str, Fault]) -> None:
        for method, fault in faults:
            fake.fail_next(method, fault)

    async def scenario() -> None:
        async with running_bot(container):
            fail(("sendMessage", BAD_GATEWAY))  # the first question
            assert "Sistem mana" in await chat.say("/mohon")
            fail(("answerCallbackQuery", BAD_GATEWAY), ("editMessageText", SLOW_DOWN),
                 ("sendMessage", BAD_GATEWAY))  # the tap's answer, the rewrite, the next
            await chat.tap("Portal Data Pendidikan")
            assert "Apa yang perlu dipulihkan" in await chat.settle(2)
            fail(("editMessageText", BAD_GATEWAY), ("sendMessage", SLOW_DOWN))
            await chat.tap("Database")
            await chat.settle(3)
            fail(("answerCallbackQuery", SLOW_DOWN), ("sendMessage", BAD_GATEWAY))
            await chat.tap("Backup terakhir")
            await chat.settle(4)
            fail(("sendMessage", SLOW_DOWN))
            assert "dampaknya" in await chat.say("Tabel nilai siswa terhapus")
            fail(("sendMessage", BAD_GATEWAY))
            assert "narahubung" in await chat.say("-")
            fail(("sendMessage", BAD_GATEWAY))
            assert "Surat permohonan" in await chat.say("Andi, 0812-5555")
            fail(("editMessageText", BAD_GATEWAY), ("sendMessage", BAD_GATEWAY))
            await chat.settle(await chat.tap("Buatkan surat permohonan") + 1)
            fail(("editMessageText", SLOW_DOWN), ("sendMessage", BAD_GATEWAY))
            await chat.tap("Kirim")  # the summary's rewrite and the ticket
            await until(fake, lambda: any("Nomor tiket" in t
                                          for t in fake.chat(REQUESTER).texts()), 30)
            await until(fake, lambda: "Permohonan dikirim." in fake.chat(REQUESTER).texts())
            await until(fake, has_messages(fake, KADIS, 1), 30)
            fail(("sendMessage", BAD_GATEWAY))  # the question for the reason
            await kadis.tap("Kembalikan")
            await kadis.settle(3)  # the card, the request letter, the question
            fail(("sendMessage", SLOW_DOWN), ("editMessageText", BAD_GATEWAY))
            assert "Pemohon diberi tahu" in await kadis.say("Sistem yang salah dipilih")
            await until(fake, lambda: any(t.startswith("Dikembalikan oleh")
                                          for t in fake.chat(KADIS).texts()), 30)
            await asyncio.sleep(3)  # retries still to come would show now

    asyncio.run(scenario())
    assert fake.faults_left() == 0  # every fault met a call
    texts = fake.chat(REQUESTER).texts()
    for words in ("Sistem: Portal", "Cakupan: Database", "Titik pemulihan: backup terakhir",
                  "Tuliskan alasan", "dampaknya", "narahubung", "Surat permohonan: dibuat",
                  "Permohonan dikirim.", "Nomor tiket"):
        assert sum(words in t for t in texts) == 1, (words, texts)
    kadis_texts = fake.chat(KADIS).texts()
    assert sum(t.startswith("Dikembalikan oleh") for t in kadis_texts) == 1
    assert sum("Tulis alasan" in t for t in kadis_texts) == 1
    assert sum("Pemohon diberi tahu" in t for t in kadis_texts) == 1
    taps = [p for name, p in fake.calls if name == "answerCallbackQuery"]
    assert all(str(p["callback_query_id"]) in fake.answered for p in taps)
    with container.sessions() as session:
        assert session.execute(select(Request.state)).scalar_one() == "returned"
