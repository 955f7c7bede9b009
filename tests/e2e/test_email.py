"""E-mail as the second channel, against a real SMTP server on 127.0.0.1 (aiosmtpd,
STARTTLS and a login required): a Kepala Dinas who does not tap within half the step's
Mutu Baku gets one e-mail with the card and the request letter; one who taps in time gets
none; a requester who blocked the bot gets the notification letter by e-mail; someone
without Telegram gets their card and its reminder by e-mail alone, and nobody gets one
from a bot that sends no e-mail."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import Document, OutboxMessage, Request
from bot.demo.standin import FakeTelegram, Fault, fake_telegram
from bot.services.people.actors import actor_by_nip
from bot.services.requests.decisions import decide
from bot.services.requests.filing import file_request
from bot.services.requests.notify import notify_request
from bot.services.requests.records import NewRequest, Scope
from bot.workflow.sop import Action
from tests.support.case_records import walk_to_report
from tests.support.clock import SetClock
from tests.support.office import NIPS, NOW
from tests.support.people import Person
from tests.support.running_bot import TEAM_CHAT, has_messages, linked_office, running_bot, until
from tests.support.smtp import MailServer

PEOPLE = {"requester": 7301, "kadis": 7302, "plh_kadis": 7303, "kabid_a": 7304,
          "tim_exec": 7305, "admin": 7306}
KADIS_MAIL, REQUESTER_MAIL = "kadis@diskominfo.kukarkab.go.id", "andi@disdikbud.kukarkab.go.id"




@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with fake_telegram() as server:
        yield server


def office(tmp_path: Path, fake: FakeTelegram, mail: MailServer, clock: SetClock,
           people: dict[str, int] = PEOPLE) -> Container:
    return linked_office(tmp_path, fake, people, clock, extra_env=mail.env(),
                         emails={"kadis": KADIS_MAIL, "requester": REQUESTER_MAIL})


def filed(container: Container) -> Request:
    with container.sessions() as session:
        actor = actor_by_nip(session, NIPS["requester"])
    ticket = file_request(container, actor, NewRequest(
        "portal-pendidikan", Scope.DATABASE, "Tabel siswa rusak setelah pembaruan.")).ticket
    with container.sessions() as session:
        request = session.execute(select(Request).where(Request.ticket == ticket)).scalar_one()
        session.expunge(request)
        return request


def pdfs(message: EmailMessage) -> dict[str, bytes]:
    return {str(part.get_filename()): part.get_payload(decode=True)  # type: ignore[misc]
            for part in message.iter_attachments()}


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_kepala_dinas_who_does_not_tap_in_time_gets_one_email_with_the_card_and_letter(
        tmp_path: Path, fake: FakeTelegram, mail: MailServer) -> None:
    clock = SetClock(NOW)
    container = office(tmp_path, fake, mail, clock)
    request = filed(container)

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, PEOPLE["kadis"], 2))  # the card, the letter
            await asyncio.sleep(2)  # several e-mail rounds: too early for an e-mail
            assert mail.mailbox.to(KADIS_MAIL) == []
            clock.now = NOW + timedelta(minutes=16)  # past half of step 2's 30 minutes
            await until(fake, lambda: mail.mailbox.to(KADIS_MAIL), what="an e-mail")
            await asyncio.sleep(2)  # more rounds: still one

    asyncio.run(scenario())
    sent = mail.mailbox.to(KADIS_MAIL)
    assert len(sent) == 1
    email = sent[0]
    assert email["Subject"] == "[Pulih] LANGKAH 2 - Disposisi Kepala Dinas"
    text = body(email)
    card = fake.chat(PEOPLE["kadis"]).texts()[0]
    assert request.ticket in text and "Tabel siswa rusak setelah pembaruan." in text
    assert all(line in text for line in card.splitlines() if line.strip())
    assert "Keputusan hanya dapat diambil di Telegram" in text
    assert "https://t.me/pulih_uji_bot" in text
    assert "belum ditanggapi sejak" in text
    with container.sessions() as session:
        letter = session.execute(select(Document).where(
            Document.request_id == request.id, Document.kind == "surat_permohonan")
            ).scalar_one()
        stored = Path(letter.file_path).read_bytes()
    assert pdfs(email) == {f"surat-permohonan-{request.ticket}.pdf": stored}
    # Nobody else had an address, and nothing else went by e-mail.
    assert [m["To"] for m in mail.mailbox.messages] == [KADIS_MAIL]
    container.close()


def test_a_card_telegram_cannot_deliver_goes_by_email_once_the_wait_is_over(
        tmp_path: Path, fake: FakeTelegram, mail: MailServer) -> None:
    clock = SetClock(NOW)
    container = office(tmp_path, fake, mail, clock)
    fake.fail_next("sendMessage", Fault(502, "Bad Gateway"), times=10_000)  # Telegram down
    request = filed(container)

    async def scenario() -> None:
        async with running_bot(container):
            await asyncio.sleep(2)
            assert mail.mailbox.to(KADIS_MAIL) == []
            clock.now = NOW + timedelta(minutes=16)
            await until(fake, lambda: len(mail.mailbox.to(KADIS_MAIL)) == 2,
                        what="the card and the letter by e-mail")
            await asyncio.sleep(2)

    asyncio.run(scenario())
    # The card, and the request letter queued behind it in the same chat: each once.
    sent = mail.mailbox.to(KADIS_MAIL)
    assert len(sent) == 2
    assert all("belum terkirim sejak" in body(m) for m in sent)
    assert sent[0]["Subject"] == "[Pulih] LANGKAH 2 - Disposisi Kepala Dinas"
    assert request.ticket in body(sent[0]) and "Keputusan hanya dapat diambil" in body(sent[0])
    assert f"surat_permohonan-{request.ticket}.pdf" in pdfs(sent[1])
    assert fake.chat(PEOPLE["kadis"]).texts() == []  # Telegram never had them
    container.close()


def test_a_card_acted_on_in_time_sends_no_email(
        tmp_path: Path, fake: FakeTelegram, mail: MailServer) -> None:
    clock = SetClock(NOW)
    container = office(tmp_path, fake, mail, clock)
    filed(container)
    kadis = Person(fake, PEOPLE["kadis"], "Ahmad Rizali")

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, PEOPLE["kadis"], 2))
            await kadis.taps("Disposisi ke Fajar Setiawan")
            await until(fake, has_messages(fake, PEOPLE["kabid_a"], 1))
            clock.now = NOW + timedelta(hours=3)  # long past every wait
            await asyncio.sleep(3)

    asyncio.run(scenario())
    assert mail.mailbox.to(KADIS_MAIL) == []
    container.close()


def test_a_requester_who_blocked_the_bot_gets_the_notification_letter_by_email(
        tmp_path: Path, fake: FakeTelegram, mail: MailServer) -> None:
    clock = SetClock(NOW)
    container = office(tmp_path, fake, mail, clock)
    with container.unit_of_work() as session:
        request_id = walk_to_report(session).id
        notify_request(session, request_id, NOW, container.settings.timezone, TEAM_CHAT)
    fake.blocked.add(PEOPLE["requester"])

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, PEOPLE["kabid_a"], 2))  # the report card
            with container.unit_of_work() as session:
                version = session.get(Request, request_id).version  # type: ignore[union-attr]
                decide(session, request_id, actor_by_nip(session, NIPS["kabid_a"]),
                       Action.RATIFY, clock(), container.settings.timezone, TEAM_CHAT,
                       version=version)
            await until(fake, lambda: len(mail.mailbox.to(REQUESTER_MAIL)) >= 3,
                        what="the step-8 card, the report and the letter by e-mail")
            await asyncio.sleep(2)

    asyncio.run(scenario())
    sent = mail.mailbox.to(REQUESTER_MAIL)
    files = {name: content for m in sent for name, content in pdfs(m).items()}
    with container.sessions() as session:
        letter = session.execute(select(Document).where(
            Document.request_id == request_id, Document.kind == "surat_pemberitahuan")
            ).scalar_one()
        ticket = session.get(Request, request_id).ticket  # type: ignore[union-attr]
        blocked = session.execute(select(OutboxMessage).where(
            OutboxMessage.chat_id == PEOPLE["requester"])).scalars().all()
    notification = files[f"surat_pemberitahuan-{ticket}.pdf"]
    assert hashlib.sha256(notification).hexdigest() == letter.sha256
    assert any("tidak dapat dikirim (bot diblokir" in body(m) for m in sent)
    assert {r.status for r in blocked} == {"blocked"}
    # One e-mail per message Telegram refused, no more.
    assert len(sent) == len(blocked)
    container.close()


def test_someone_without_telegram_gets_their_card_by_email_alone(
        tmp_path: Path, fake: FakeTelegram, mail: MailServer) -> None:
    clock = SetClock(NOW)
    people = {k: v for k, v in PEOPLE.items() if k != "kadis"}
    container = office(tmp_path, fake, mail, clock, people)
    filing: list[Request] = []

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, lambda: any(n == "setMyCommands" for n, _ in fake.calls))
            filing.append(await asyncio.to_thread(filed, container))
            await until(fake, lambda: mail.mailbox.to(KADIS_MAIL), what="the card by e-mail")
            await asyncio.sleep(2)
            clock.now = NOW + timedelta(minutes=31)  # step 2's 30 minutes are over
            await until(fake, lambda: len(mail.mailbox.to(KADIS_MAIL)) == 2,
                        what="the reminder by e-mail")
            await asyncio.sleep(2)

    asyncio.run(scenario())
    request = filing[0]
    sent = mail.mailbox.to(KADIS_MAIL)
    assert len(sent) == 2
    text = body(sent[0])
    assert "LANGKAH 2 - Disposisi Kepala Dinas" in text and request.ticket in text
    assert "belum terhubung dengan Pulih di Telegram" in text
    assert "Keputusan hanya dapat diambil di Telegram" in text
    assert list(pdfs(sent[0])) == [f"surat-permohonan-{request.ticket}.pdf"]
    assert "PENGINGAT - batas waktu langkah 2" in body(sent[1])
    assert sent[1]["Subject"].startswith("[Pulih] PENGINGAT")
    container.close()


def test_a_bot_without_a_mail_server_queues_no_email(
        tmp_path: Path, fake: FakeTelegram) -> None:
    people = {k: v for k, v in PEOPLE.items() if k != "kadis"}
    container = linked_office(tmp_path, fake, people, SetClock(NOW),
                              emails={"kadis": KADIS_MAIL, "requester": REQUESTER_MAIL})

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, lambda: any(n == "setMyCommands" for n, _ in fake.calls))
            await asyncio.to_thread(filed, container)
            await until(fake, has_messages(fake, PEOPLE["requester"], 2))

    asyncio.run(scenario())
    with container.sessions() as session:
        assert session.execute(select(OutboxMessage).where(
            OutboxMessage.channel == "email")).scalars().all() == []
    container.close()
