"""/status and /antrian: where a request stands, and what waits on whom, as each
person's chat shows it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bootstrap import Container
from bot.demo.standin import FakeTelegram, fake_telegram
from tests.support.running_bot import file_request, has_messages, linked_office, running_bot, until

PEOPLE = {"requester": 7001, "kadis": 7002, "kabid_a": 7003, "opd_other": 7004,
          "auditor": 7005}


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram, str]]:
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, PEOPLE)
        ticket = file_request(container, "Tabel <b>siswa</b> rusak").ticket
        yield container, fake, ticket
        container.close()


def ask(fake: FakeTelegram, container: Container, questions: list[tuple[str, str]]) -> None:
    async def scenario() -> None:
        async with running_bot(container):
            for who, question in questions:
                chat = PEOPLE[who]
                before = len(fake.chat(chat).messages)
                fake.user_says(chat, question)
                await until(fake, has_messages(fake, chat, before + 1))

    asyncio.run(scenario())


def last(fake: FakeTelegram, who: str) -> str:
    return fake.chat(PEOPLE[who]).texts()[-1]


def test_the_queue_shows_each_official_what_waits_on_them(
        office: tuple[Container, FakeTelegram, str]) -> None:
    container, fake, ticket = office
    ask(fake, container, [("kadis", "/antrian"), ("kabid_a", "/antrian"),
                          ("requester", "/antrian")])
    kadis = last(fake, "kadis")
    assert ticket in kadis and "Portal Data Pendidikan" in kadis
    assert "mendisposisikan ke Kepala Bidang" in kadis and "Batas waktu" in kadis
    assert "sisa" in kadis and "WITA" in kadis
    assert last(fake, "kabid_a") == "Tidak ada permohonan yang menunggu tindakan Anda."
    assert "Tidak ada permohonan" in last(fake, "requester")


@pytest.mark.dates
def test_status_shows_the_timeline_to_those_who_may_see_it(
        office: tuple[Container, FakeTelegram, str]) -> None:
    container, fake, ticket = office
    ask(fake, container, [("requester", f"/status {ticket}"), ("auditor", f"/status {ticket}"),
                          ("opd_other", f"/status {ticket}"), ("requester", "/status"),
                          ("requester", "/status PLH-1999-99999")])
    texts = fake.chat(PEOPLE["requester"]).texts()
    assert f"Permohonan {ticket}" in texts[0]
    assert "Diajukan, menunggu disposisi Kepala Dinas" in texts[0]
    assert "2. Disposisi Kepala Dinas ke Kepala Bidang" in texts[0] and "30 menit" in texts[0]
    assert "Andi Saputra (OPD/PSE) mengajukan permohonan" in texts[0]
    assert f"Permohonan {ticket}" in last(fake, "auditor")
    assert "OPD Anda sendiri" in last(fake, "opd_other")
    assert "Sebutkan nomor permohonan" in texts[1]
    assert texts[2] == "Permohonan PLH-1999-99999 tidak ditemukan."


def test_request_data_is_not_shown_in_a_group(
        office: tuple[Container, FakeTelegram, str]) -> None:
    container, fake, ticket = office
    group = -1009998887776

    async def scenario() -> None:
        async with running_bot(container):
            for count, command in enumerate((f"/status {ticket}", "/antrian", "/mohon"),
                                            start=1):
                fake.user_says(PEOPLE["kadis"], command, chat_id=group, chat_type="group")
                await until(fake, has_messages(fake, group, count))

    asyncio.run(scenario())
    shown = fake.chat(group).texts()
    assert len(shown) == 3 and all("chat pribadi" in t for t in shown)
    assert not any(ticket in t or "Portal" in t for t in shown)
