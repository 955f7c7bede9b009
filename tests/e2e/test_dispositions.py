"""Steps 2 and 3 in chat: the Kepala Dinas's card, one tap to a Kepala Bidang, the Kepala
Bidang's card, one tap to the team, the team group's assignment card; the requester told
at each move; stale and repeated taps refused without change. Each person has their own
chat; what each chat shows is checked, and so is what was stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import AuditEvent, OutboxMessage, Request
from bot.demo.standin import FakeTelegram, fake_telegram
from bot.workflow.sop import State
from tests.support.running_bot import file_request, has_messages, linked_office, running_bot, until

TEAM = -1001000000001
PEOPLE = {"requester": 7001, "kadis": 7002, "kabid_a": 7003, "kabid_b": 7004,
          "tim_exec": 7005, "opd_other": 7006}


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram, int]]:
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, PEOPLE)
        request_id = file_request(container, impact="Portal mati").id
        yield container, fake, request_id
        container.close()


def card(fake: FakeTelegram, who: str) -> dict[str, Any]:
    """The newest message in the person's chat that has buttons."""
    shown = [m for m in fake.chat(PEOPLE[who]).messages.values() if m.get("reply_markup")]
    assert shown, f"{who} has no card"
    return shown[-1]


def button(message: dict[str, Any], label: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if label in b["text"]:
                return str(b["callback_data"])
    raise AssertionError(f"no button {label!r}")


async def press(fake: FakeTelegram, who: str, label: str) -> dict[str, Any]:
    """Wait for the person's card, tap the button with this label, wait for the answer;
    returns the card as it was shown."""
    await until(fake, has_messages(fake, PEOPLE[who], 1))
    shown = card(fake, who)
    tap = fake.user_taps(PEOPLE[who], PEOPLE[who], shown["message_id"], button(shown, label))
    await until(fake, lambda: tap in fake.answered)
    return shown


def stored(container: Container, request_id: int) -> tuple[str, int, int]:
    with container.sessions() as session:
        request = session.get(Request, request_id)
        assert request is not None
        events = session.execute(select(AuditEvent).where(
            AuditEvent.request_id == request_id)).scalars().all()
        return request.state, request.version, len(events)


def test_steps_two_and_three_by_one_tap_each(
        office: tuple[Container, FakeTelegram, int]) -> None:
    container, fake, request_id = office

    async def scenario() -> None:
        async with running_bot(container):
            kadis_card = await press(fake, "kadis", "Fajar Setiawan")
            await until(fake, has_messages(fake, PEOPLE["kabid_a"], 1))
            kabid_card = card(fake, "kabid_a")
            # the Kepala Dinas taps the same (now stale) button again
            again = fake.user_taps(PEOPLE["kadis"], PEOPLE["kadis"], kadis_card["message_id"],
                                   button(kadis_card, "Fajar Setiawan"))
            await until(fake, lambda: again in fake.answered)
            # another Kepala Bidang sends the same button data (a forwarded card)
            other = fake.user_taps(PEOPLE["kabid_b"], PEOPLE["kabid_a"],
                                   kabid_card["message_id"],
                                   button(kabid_card, "Tim Teknis (grup)"))
            await until(fake, lambda: other in fake.answered)
            assign = fake.user_taps(PEOPLE["kabid_a"], PEOPLE["kabid_a"],
                                    kabid_card["message_id"],
                                    button(kabid_card, "Tim Teknis (grup)"))
            await until(fake, lambda: assign in fake.answered)
            await until(fake, has_messages(fake, TEAM, 1))
            await until(fake, has_messages(fake, PEOPLE["requester"], 2))

    asyncio.run(scenario())
    kadis_text = fake.chat(PEOPLE["kadis"]).texts()[0]
    assert "LANGKAH 2" in kadis_text and "Portal Data Pendidikan" in kadis_text
    assert "Tabel siswa rusak" in kadis_text and "Portal mati" in kadis_text
    assert "Didisposisikan oleh Ahmad Rizali" in kadis_text  # the card is stamped
    kabid_text = fake.chat(PEOPLE["kabid_a"]).texts()[0]
    assert "LANGKAH 3" in kabid_text and "Disposisi dari Ahmad Rizali" in kabid_text
    assert "Diteruskan ke Tim Teknis oleh Fajar Setiawan" in kabid_text
    team = fake.chat(TEAM).texts()[0]
    assert "PENUGASAN" in team and "kepada Tim Teknis oleh Fajar Setiawan" in team
    requester = fake.chat(PEOPLE["requester"]).texts()
    assert "Didisposisikan ke Kepala Bidang (oleh Ahmad Rizali)" in requester[0]
    assert "Ditugaskan ke Tim Teknis (oleh Fajar Setiawan)" in requester[1]
    answers = [a["text"] for a in fake.answered.values()]
    assert answers[0] == "Tersimpan." and answers[3] == "Tersimpan."
    assert answers[1].startswith("Sudah diproses")  # the repeated tap
    assert answers[2] == "Permohonan ini didisposisikan kepada Kepala Bidang lain."
    assert fake.chat(PEOPLE["kabid_b"]).messages == {}
    assert stored(container, request_id)[:2] == (State.ASSIGNED_TO_TEAM.value, 3)
    with container.sessions() as session:
        rows = session.execute(select(OutboxMessage)).scalars().all()
        assert all(r.status == "sent" for r in rows)
        keys = [r.dedupe_key for r in rows]
        assert len(keys) == len(set(keys))


def test_a_reason_is_asked_for_and_a_return_reaches_the_requester(
        office: tuple[Container, FakeTelegram, int]) -> None:
    container, fake, request_id = office

    async def scenario() -> None:
        async with running_bot(container):
            await press(fake, "kadis", "Kembalikan")
            await until(fake, has_messages(fake, PEOPLE["kadis"], 2))
            fake.user_says(PEOPLE["kadis"], "Lampirkan <b>surat</b> resmi & nomor tiket **OPD**")
            await until(fake, has_messages(fake, PEOPLE["kadis"], 3))
            await until(fake, has_messages(fake, PEOPLE["requester"], 1))

    asyncio.run(scenario())
    kadis = fake.chat(PEOPLE["kadis"]).texts()
    assert "Tulis alasan mengembalikan permohonan PLH-" in kadis[1]
    assert kadis[2] == "Tersimpan. Pemohon diberi tahu."
    assert "Dikembalikan oleh Ahmad Rizali" in kadis[0]
    requester = fake.chat(PEOPLE["requester"]).texts()[0]
    assert "Dikembalikan untuk perbaikan" in requester
    assert "Lampirkan <b>surat</b> resmi & nomor tiket **OPD**" in requester
    assert stored(container, request_id)[0] == State.RETURNED.value


def test_a_five_thousand_character_reason_still_reaches_the_kepala_dinas(
        tmp_path: Path) -> None:
    reason = ("Tabel siswa rusak setelah pembaruan; " * 200)[:5000]
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, {"kadis": PEOPLE["kadis"]})
        file_request(container, reason)

        async def scenario() -> None:
            async with running_bot(container):
                await press(fake, "kadis", "Fajar Setiawan")

        asyncio.run(scenario())
        container.close()
    text = fake.chat(PEOPLE["kadis"]).texts()[0]
    assert len(text) <= 4096 and "terpotong; isi lengkap ada di /status" in text
    assert text.startswith("Didisposisikan oleh Ahmad Rizali")  # the stamp is never cut
    assert reason[:3000] in text


def test_the_kepala_bidang_assigns_with_an_instruction_or_a_typed_note(
        office: tuple[Container, FakeTelegram, int]) -> None:
    container, fake, request_id = office

    async def scenario() -> None:
        async with running_bot(container):
            await press(fake, "kadis", "Fajar Setiawan")
            await press(fake, "kabid_a", "dengan catatan")
            await until(fake, has_messages(fake, PEOPLE["kabid_a"], 2))
            fake.user_says(PEOPLE["kabid_a"], "Utamakan tabel nilai; hubungi Pak Andi dulu")
            await until(fake, has_messages(fake, TEAM, 1))

    asyncio.run(scenario())
    assert "Tulis catatan untuk Tim Teknis tentang permohonan" in \
        fake.chat(PEOPLE["kabid_a"]).texts()[1]
    team = fake.chat(TEAM).texts()[0]
    assert "Laksanakan sesuai catatan. Utamakan tabel nilai; hubungi Pak Andi dulu" in team
    with container.sessions() as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.request_id == request_id, AuditEvent.action == "assign")).scalar_one()
        assert json.loads(event.data) == {"instruksi": "Laksanakan sesuai catatan"}
        assert event.note == "Utamakan tabel nilai; hubungi Pak Andi dulu"
