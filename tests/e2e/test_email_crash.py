"""The bot (`pulih run`, its own process) killed with SIGKILL while an e-mail is on its way
to the SMTP server, then started again: the e-mail arrives once. Killed while the message
travels (the server has it, the bot never heard back), it is not sent again and the admin is
told to ask; killed after the server accepted it but before the database recorded that,
the receipt settles it as sent."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import OutboxMessage
from bot.demo.standin import FakeTelegram, fake_telegram
from bot.mail.sender import MAIL_IN_DOUBT, RECEIPTS_FILE
from bot.services.people.actors import actor_by_nip
from bot.services.requests.filing import file_request
from bot.services.requests.records import NewRequest, Scope
from tests.support.cli import clocked
from tests.support.office import NIPS
from tests.support.running_bot import bot_env, linked_office
from tests.support.smtp import MailServer, mail_server

# The Kepala Dinas has no Telegram: the card goes to them by e-mail alone, at once.
PEOPLE = {"requester": 7401, "kabid_a": 7402, "admin": 7403}
KADIS_MAIL = "kadis@diskominfo.kukarkab.go.id"


class Bot:
    """`pulih run` as a process that the test kills and starts again."""

    def __init__(self, container: Container, fake: FakeTelegram, mail: MailServer,
                 log: Path) -> None:
        settings = container.settings
        env = {**bot_env(fake), **mail.env(), "PULIH_DATABASE_URL": settings.database_url,
               "PULIH_DATA_DIR": str(settings.data_dir),
               "PULIH_INVENTORY": str(settings.inventory_path),
               "PULIH_ENV_FILE": str(log.parent / "absent.env")}
        self.command, self.env = clocked(env)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([*self.command, "run"], env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)
            self.process = None


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram, MailServer, Bot]]:
    with fake_telegram() as fake, mail_server(tmp_path / "smtp") as mail:
        container = linked_office(tmp_path, fake, PEOPLE, extra_env=mail.env(),
                                  emails={"kadis": KADIS_MAIL})
        bot = Bot(container, fake, mail, tmp_path / "pulih-run.log")
        try:
            yield container, fake, mail, bot
        finally:
            bot.kill(signal.SIGTERM)
            container.close()


def file_one(container: Container) -> None:
    with container.sessions() as session:
        actor = actor_by_nip(session, NIPS["requester"])
    file_request(container, actor, NewRequest("portal-pendidikan", Scope.DATABASE,
                                              "Tabel siswa rusak setelah pembaruan."))


def emails_row(container: Container) -> OutboxMessage:
    with container.sessions() as session:
        row = session.execute(select(OutboxMessage).where(
            OutboxMessage.channel == "email")).scalar_one()
        session.expunge(row)
        return row


async def running(fake: FakeTelegram) -> None:
    """Until the bot has started (it sets its command menu once ready)."""
    await eventually(lambda: any(n == "setMyCommands" for n, _ in fake.calls), "the bot up")


async def eventually(check: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"waited {timeout:g} s for {what}")


def test_killed_while_the_email_travels_it_is_not_sent_again_and_the_admin_is_told(
        world: tuple[Container, FakeTelegram, MailServer, Bot]) -> None:
    container, fake, mail, bot = world

    def kill_the_bot(message: EmailMessage) -> None:
        mail.mailbox.on_data = None
        bot.kill()  # the server has the message; the bot never hears its answer

    mail.mailbox.on_data = kill_the_bot

    async def scenario() -> None:
        bot.start()
        await running(fake)
        file_one(container)
        await eventually(lambda: bot.process is None, "the kill inside the e-mail's data")
        bot.start()
        await eventually(lambda: fake.chat(PEOPLE["admin"]).texts(), "the admin told")
        await asyncio.sleep(4)  # e-mail rounds of the restarted bot (the first after 1 s)

    asyncio.run(scenario())
    assert len(mail.mailbox.to(KADIS_MAIL)) == 1
    row = emails_row(container)
    assert (row.status, row.last_error) == ("failed", MAIL_IN_DOUBT)
    told = fake.chat(PEOPLE["admin"]).texts()
    assert len(told) == 1 and KADIS_MAIL in told[0] and "tidak mengirimnya lagi" in told[0]


def test_killed_after_the_server_accepted_it_the_receipt_settles_it_as_sent(
        world: tuple[Container, FakeTelegram, MailServer, Bot]) -> None:
    container, fake, mail, bot = world
    database = container.settings.sqlite_file()
    assert database is not None
    receipts = container.settings.data_dir / RECEIPTS_FILE
    lock = sqlite3.connect(database, timeout=30, isolation_level=None, check_same_thread=False)
    held = threading.Event()

    def hold_the_database(message: EmailMessage) -> None:
        # The server accepts; the bot writes its receipt but cannot record the send.
        mail.mailbox.on_data = None
        lock.execute("BEGIN IMMEDIATE")
        held.set()

    mail.mailbox.on_data = hold_the_database

    async def scenario() -> None:
        bot.start()
        await running(fake)
        file_one(container)
        await eventually(held.is_set, "the e-mail's data")
        await eventually(lambda: receipts.is_file() and "R " in receipts.read_text(),
                         "the server's acceptance in the receipts")
        bot.kill()
        lock.execute("ROLLBACK")
        bot.start()
        await eventually(lambda: emails_row(container).status == "sent", "the row settled")
        await asyncio.sleep(4)

    try:
        asyncio.run(scenario())
    finally:
        lock.close()
    assert len(mail.mailbox.to(KADIS_MAIL)) == 1
    assert emails_row(container).status == "sent"
    assert fake.chat(PEOPLE["admin"]).texts() == []
