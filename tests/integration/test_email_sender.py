"""The e-mail sender against a real SMTP server on 127.0.0.1 (STARTTLS and a login
required), without the bot: a server out of reach keeps each e-mail waiting and sends it
once when back; an address the server refuses is given up and the admins told; a wrong
password never reaches the log; a file outside Pulih's document folders is never mailed."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.db.migrate import upgrade
from bot.db.models import OutboxMessage, Person
from bot.demo.lab.loopback import free_port
from bot.inventory.loader import load_inventory
from bot.mail.sender import deliver_mail
from bot.services.office.inventory_sync import sync_inventory
from bot.services.outbox.queue import Attachment, enqueue_email
from bot.services.outbox.receipts import Receipts
from bot.settings import load_settings
from tests.support.clock import SetClock
from tests.support.office import NIPS, NOW, write_inventory
from tests.support.smtp import PASSWORD, MailServer

ADMIN_CHAT = 7501
TO = "andi@disdikbud.kukarkab.go.id"




def office(tmp_path: Path, settings: dict[str, str], clock: SetClock) -> Container:
    env = {"PULIH_DATABASE_URL": f"sqlite:///{tmp_path / 'pulih.sqlite3'}",
           "PULIH_DATA_DIR": str(tmp_path / "data"),
           "PULIH_INVENTORY": str(tmp_path / "office" / "inventory.toml"),
           "PULIH_ENV_FILE": str(tmp_path / "absent.env"), **settings}
    if not (tmp_path / "office" / "inventory.toml").exists():
        write_inventory(tmp_path / "office", emails={"requester": TO})
    container = bootstrap(load_settings(environ=env), clock)
    upgrade(container.engine)
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(container.settings.inventory_path), NOW)
        admin = session.execute(select(Person).where(Person.nip == NIPS["admin"])).scalar_one()
        admin.telegram_id = ADMIN_CHAT
    return container


def queue_one(container: Container, attachment: Attachment | None = None) -> int:
    with container.unit_of_work() as session:
        enqueue_email(session, key="uji:1", address=TO, kind="notice",
                      subject="[Pulih] Pemberitahuan uji", text="Isi pemberitahuan.",
                      now=container.clock(),
                      attachments=(attachment,) if attachment else ())
        return session.execute(select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key == "uji:1")).scalar_one()


def row(container: Container, row_id: int) -> OutboxMessage:
    with container.sessions() as session:
        found = session.get(OutboxMessage, row_id)
        assert found is not None
        session.expunge(found)
        return found


def receipts(container: Container) -> Receipts:
    return Receipts(container.settings.data_dir / "surel.log")


def test_a_server_out_of_reach_keeps_the_email_waiting_and_sends_it_once_when_back(
        tmp_path: Path, mail: MailServer) -> None:
    clock = SetClock(NOW)
    away = {**mail.env(), "PULIH_SMTP_HOST": f"127.0.0.1:{free_port()}"}
    container = office(tmp_path, away, clock)
    row_id = queue_one(container)
    assert deliver_mail(container, receipts(container)) == 0
    waiting = row(container, row_id)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "ConnectionRefused" in waiting.last_error and waiting.next_attempt_at > NOW
    container.close()

    clock.now = NOW + timedelta(minutes=30)
    container = office(tmp_path, mail.env(), clock)
    assert deliver_mail(container, receipts(container)) == 1
    assert deliver_mail(container, receipts(container)) == 0
    assert row(container, row_id).status == "sent"
    sent = mail.mailbox.to(TO)
    assert len(sent) == 1 and sent[0]["Subject"] == "[Pulih] Pemberitahuan uji"
    assert "Isi pemberitahuan." in str(sent[0].get_body(("plain",)).get_content())  # type: ignore[union-attr]
    container.close()


def test_an_address_the_server_refuses_is_given_up_and_the_admins_told(
        tmp_path: Path, mail: MailServer) -> None:
    container = office(tmp_path, mail.env(), SetClock(NOW))
    mail.mailbox.refused.add(TO)
    row_id = queue_one(container)
    assert deliver_mail(container, receipts(container)) == 0
    assert row(container, row_id).status == "failed"
    with container.sessions() as session:
        alerts = session.execute(select(OutboxMessage).where(
            OutboxMessage.chat_id == ADMIN_CHAT)).scalars().all()
    assert len(alerts) == 1 and TO in alerts[0].payload and "550" in alerts[0].payload
    assert mail.mailbox.messages == []
    container.close()


def test_a_wrong_password_waits_and_never_reaches_the_log(
        tmp_path: Path, mail: MailServer, caplog: pytest.LogCaptureFixture) -> None:
    wrong = tmp_path / "salah"
    wrong.write_text("bukan-sandinya-rahasia\n")
    container = office(tmp_path, {**mail.env(), "PULIH_SMTP_PASSWORD_FILE": str(wrong)},
                       SetClock(NOW))
    row_id = queue_one(container)
    with caplog.at_level(logging.DEBUG):
        assert deliver_mail(container, receipts(container)) == 0
    waiting = row(container, row_id)
    assert waiting.status == "pending" and "login SMTP ditolak (535)" in waiting.last_error
    assert "bukan-sandinya-rahasia" not in caplog.text and PASSWORD not in caplog.text
    assert "login SMTP ditolak" in caplog.text
    container.close()


def test_a_file_outside_the_document_folders_is_never_mailed(
        tmp_path: Path, mail: MailServer) -> None:
    container = office(tmp_path, mail.env(), SetClock(NOW))
    key = tmp_path / "office" / "ssh" / "id_ed25519"
    row_id = queue_one(container, Attachment(str(key), "lampiran.pdf"))
    assert deliver_mail(container, receipts(container)) == 0
    assert row(container, row_id).status == "failed"
    assert mail.mailbox.messages == []
    container.close()
