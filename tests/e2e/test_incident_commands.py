"""/insiden in a private chat: a declaration with a wrong code is refused with the code
named and nothing opened; a good one opens the requests and the Kepala Dinas's one card;
/insiden pisahkan moves one request to its own card; an agency's person is told the
command is Diskominfo's; closing sends the summary PDF."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Container
from bot.db.models import Request
from bot.demo.standin import FakeTelegram, fake_telegram
from tests.support.people import Person, documents, shown, text_of, wait
from tests.support.running_bot import linked_office, running_bot

KADIS, REQUESTER, KABID = 8401, 8402, 8403


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram]]:
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, {"kadis": KADIS, "requester": REQUESTER,
                                                   "kabid_a": KABID})
        yield container, fake
        container.close()


def opened(c: Container) -> int:
    with c.sessions() as session:
        return session.execute(select(func.count()).select_from(Request)).scalar_one()


def test_insiden_in_chat_declares_sets_one_apart_and_closes(
        chat: tuple[Container, FakeTelegram]) -> None:
    container, fake = chat
    kadis, agency = Person(fake, KADIS, "Ahmad"), Person(fake, REQUESTER, "Andi")

    async def scenario() -> None:
        async with running_bot(container, delivery_interval=0.2):
            await kadis.says("/insiden buka Gangguan DC1: simpeg, tidak-ada")
            refused = await shown(fake, KADIS, "Insiden belum dibuka")
            assert "TIDAK-ADA: tidak terdaftar" in text_of(refused)
            assert opened(container) == 0
            await agency.says("/insiden")
            await shown(fake, REQUESTER, "ditangani Diskominfo")
            await kadis.says("/insiden buka Gangguan DC1\nsimpeg web-kominfo")
            declared = await shown(fake, KADIS, "dibuka.")
            code = text_of(declared).split()[1]
            card = await shown(fake, KADIS, "LANGKAH 2 - Disposisi Kepala Dinas (2 sistem)")
            tickets = [w for w in text_of(card).split() if w.startswith("PLH-")]
            assert len(tickets) == 2
            await kadis.says(f"/insiden pisahkan {tickets[0]}")
            await shown(fake, KADIS, f"{tickets[0]} dipisahkan")
            own = await shown(fake, KADIS, f"Permohonan {tickets[0]}")  # its ordinary card
            assert "LANGKAH 2" in text_of(own) and own["message_id"] != card["message_id"]
            await wait(fake, lambda: "Menunggu disposisi (1)" in text_of(
                fake.chat(KADIS).messages[card["message_id"]]), what="the card rewritten")
            await kadis.says(f"/insiden tutup {code}")
            await shown(fake, KADIS, f"Insiden {code} ditutup")
            await wait(fake, lambda: any(n.startswith("ringkasan_insiden")
                                         for n in documents(fake, KADIS)), what="the summary")
            await kadis.says(f"/insiden tutup {code}")
            await shown(fake, KADIS, "sudah ditutup")

    asyncio.run(scenario())
