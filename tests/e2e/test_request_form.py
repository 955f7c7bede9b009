"""/mohon: the requester's guided conversation, as their chat shows it, ending in a
stored request, its request letter and the Kepala Dinas's card; wrong users, odd answers
and bad uploads get a clear message and leave nothing behind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Container
from bot.db.models import Document, Request
from bot.demo.standin import FakeTelegram, fake_telegram
from tests.support.clock import office_day, tanggal
from tests.support.documents import render
from tests.support.office import NIPS
from tests.support.running_bot import (
    answered,
    chat_office,
    has_messages,
    link,
    running_bot,
    until,
)

REQUESTER, KADIS, KABID, TEAM = 7101, 7102, 7103, -1001000000001
HOSTILE = "Basis data rusak <b>parah</b> **segera** {{ x }} % & שלום e\u0301"
CONTACT = "Andi <i>0812</i> {% raw %} `kode` _miring_ [tautan](http://x)"

YESTERDAY = office_day(-1)  # the recovery point the requester types: 23.00 that day


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram]]:
    with fake_telegram() as fake:
        container = chat_office(tmp_path, fake)
        link(container, NIPS["requester"], REQUESTER)
        link(container, NIPS["kadis"], KADIS)
        link(container, NIPS["kabid_a"], KABID)
        yield container, fake
        container.close()


class Chat:
    """The requester's side of the conversation."""

    def __init__(self, fake: FakeTelegram, user: int) -> None:
        self.fake, self.user = fake, user

    def count(self) -> int:
        return len(self.fake.chat(self.user).messages)

    def last(self) -> dict[str, Any]:
        return list(self.fake.chat(self.user).messages.values())[-1]

    async def say(self, words: str) -> str:
        before = self.count()
        self.fake.user_says(self.user, words)
        await until(self.fake, has_messages(self.fake, self.user, before + 1))
        return str(self.last().get("text", ""))

    async def tap(self, label: str) -> int:
        """Tap the newest button with this label; returns the message count before."""
        shown = self.count()
        for message in reversed(list(self.fake.chat(self.user).messages.values())):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        query = self.fake.user_taps(self.user, self.user,
                                                    message["message_id"],
                                                    button["callback_data"])
                        await until(self.fake, answered(self.fake, query))
                        return shown
        raise AssertionError(f"no button {label!r}")

    async def settle(self, count: int) -> str:
        await until(self.fake, has_messages(self.fake, self.user, count))
        return str(self.last().get("text", ""))


def count(container: Container, model: type) -> int:
    with container.sessions() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.dates
def test_the_whole_path_from_mohon_to_the_teams_assignment_card(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    chat = Chat(fake, REQUESTER)
    seen: list[str] = []

    async def scenario() -> None:
        async with running_bot(container):
            assert "Sistem mana" in await chat.say("/mohon")
            await chat.tap("Portal Data Pendidikan")
            assert "Apa yang perlu dipulihkan" in await chat.settle(2)
            await chat.tap("Database")
            await chat.settle(3)
            assert "Tulis tanggal dan jam" in await chat.say("kemarin malam")
            assert "masa depan" in await chat.say("01-01-2099 10.00")
            assert "Tuliskan alasan" in await chat.say(f"{YESTERDAY:%d-%m-%Y} 23.00")
            assert "terlalu panjang" in await chat.say("x" * 5001)
            assert "dampaknya" in await chat.say(HOSTILE)
            assert "narahubung" in await chat.say(f"Dampak: {HOSTILE}")
            assert "terlalu panjang" in await chat.say("y" * 201)
            assert "Surat permohonan" in await chat.say(CONTACT)
            summary = await chat.settle(await chat.tap("Buatkan surat permohonan") + 1)
            seen.append(summary)  # Kirim turns this message into the receipt
            await chat.tap("Kirim")
            await until(fake, lambda: "Nomor tiket" in str(chat.last().get("text")))
            await until(fake, has_messages(fake, KADIS, 1))
            filed = chat.count()
            seen.append(fake.chat(KADIS).texts()[0])
            kadis = Chat(fake, KADIS)
            await kadis.tap("Fajar Setiawan")
            await until(fake, has_messages(fake, KABID, 1))
            await Chat(fake, KABID).tap("Tim Teknis (grup)")
            await until(fake, has_messages(fake, TEAM, 2))  # the card, the disposition sheet
            await until(fake, has_messages(fake, REQUESTER, filed + 3))  # letter, 2 notices

    asyncio.run(scenario())
    texts = fake.chat(REQUESTER).texts()
    summary = seen[0]
    assert "Periksa permohonan Anda" in summary
    assert "Portal Data Pendidikan" in summary and f"{tanggal(YESTERDAY)} 23.00 WITA" in summary
    assert HOSTILE in summary and f"Dampak: Dampak: {HOSTILE}" in summary
    assert CONTACT in summary
    # Who will sign the letter Pulih writes, and how it gets its number, before filing.
    assert "Ditandatangani: Kepala Dinas Pendidikan dan Kebudayaan (nama dan tanda tangan " \
        "diisi di kantor Anda)" in summary
    assert "Nomor surat: dikosongkan, diisi dari buku agenda kantor Anda" in summary
    filed = next(t for t in texts if "Permohonan terkirim" in t)
    assert "Permohonan terkirim. Nomor tiket: PLH-" in filed and "sedang dibuat" in filed
    assert "Permohonan dikirim." in texts  # the summary, its buttons gone
    with container.sessions() as session:
        request = session.execute(select(Request)).scalar_one()
        assert (request.reason, request.impact, request.contact) == (
            HOSTILE, f"Dampak: {HOSTILE}", CONTACT)
        assert request.scope == "database" and request.recovery_point is not None
        letters = session.execute(select(Document).order_by(Document.id)).scalars().all()
        assert [d.kind for d in letters] == ["surat_permohonan", "disposisi"]
        assert request.ticket in filed
    kadis = seen[1]
    assert "LANGKAH 2" in kadis and HOSTILE in kadis and CONTACT in kadis
    assert "Didisposisikan oleh Ahmad Rizali" in fake.chat(KADIS).texts()[0]
    assert "Diteruskan ke Tim Teknis oleh Fajar Setiawan" in fake.chat(KABID).texts()[0]
    team = fake.chat(TEAM).texts()[0]
    assert "PENUGASAN" in team and HOSTILE in team and request.ticket in team
    sheet = list(fake.chat(TEAM).messages.values())[1]
    assert sheet["document"]["file_name"] == f"disposisi-{request.ticket}.pdf"
    assert "Lembar Disposisi" in sheet["caption"] and letters[1].number in sheet["caption"]
    for reader in (KADIS, REQUESTER):  # the letter reaches the Kepala Dinas and its author
        letter = next(m for m in fake.chat(reader).messages.values() if "document" in m)
        assert letter["document"]["file_name"] == f"surat_permohonan-{request.ticket}.pdf"
        assert letters[0].verification_code in letter["caption"]
    notices = [t for t in texts if "Didisposisikan" in t or "Ditugaskan" in t]
    assert "Didisposisikan ke Kepala Bidang" in notices[0]
    assert "Ditugaskan ke Tim Teknis" in notices[1] and len(notices) == 2


def test_a_signed_pdf_is_taken_and_a_fake_or_huge_one_refused(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    chat = Chat(fake, REQUESTER)
    signed = render("surat_permohonan")

    async def scenario() -> None:
        async with running_bot(container):
            await chat.say("/mohon")
            await chat.tap("Portal Data Pendidikan")
            await chat.settle(2)
            await chat.tap("File aplikasi")
            await chat.settle(3)
            await chat.tap("Backup terakhir")
            await chat.settle(4)
            await chat.say("Berkas unggahan hilang")
            await chat.say("Guru tidak dapat mengunggah nilai")
            await chat.say("Andi")
            for name, data, size in (("surat.pdf", b"%PDF-1.4 palsu", None),
                                     ("virus.exe", b"MZ\x90\x00", None),
                                     ("besar.pdf", signed, 50 * 1024 * 1024)):
                before = chat.count()
                fake.user_sends_file(REQUESTER, name, data, declared_size=size)
                await chat.settle(before + 1)
            assert count(container, Request) == 0 and count(container, Document) == 0
            before = chat.count()
            fake.user_sends_file(REQUESTER, "surat.pdf", signed)
            await chat.settle(before + 1)
            await chat.tap("Kirim")
            await until(fake, lambda: any("document" in m for m in
                                          fake.chat(REQUESTER).messages.values()))

    asyncio.run(scenario())
    texts = fake.chat(REQUESTER).texts()
    assert sum("bukan PDF yang dapat dibaca" in t for t in texts) == 2
    assert any("terlalu besar" in t for t in texts)
    assert any("Surat permohonan yang Anda unggah dicatat" in t for t in texts)
    with container.sessions() as session:
        document = session.execute(select(Document)).scalar_one()
        assert document.kind == "surat_permohonan"
        assert Path(document.file_path).read_bytes() == signed
    caption = next(m for m in fake.chat(REQUESTER).messages.values() if "document" in m)
    assert document.verification_code in caption["caption"]
    assert not list((container.settings.data_dir / "uploads").iterdir())  # recorded, gone


def test_only_agency_staff_file_and_cancel_leaves_nothing(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    chat = Chat(fake, REQUESTER)

    async def scenario() -> None:
        async with running_bot(container):
            before = len(fake.chat(KADIS).messages)
            fake.user_says(KADIS, "/mohon")
            await until(fake, has_messages(fake, KADIS, before + 1))
            await chat.say("/mohon")
            assert "tidak sesuai" in await chat.say("pilih yang mana?")
            await chat.tap("Batal")
            await until(fake, lambda: any("Permohonan dibatalkan. Tidak ada yang disimpan."
                                          in t for t in fake.chat(REQUESTER).texts()))
            assert "belum terhubung" in await Chat(fake, 9999).say("/mohon")

    asyncio.run(scenario())
    assert "hanya dapat diajukan oleh pegawai OPD" in fake.chat(KADIS).texts()[-1]
    assert count(container, Request) == 0
