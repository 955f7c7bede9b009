"""The bot as its own process (`pulih run`), killed with SIGKILL at random moments while
two agencies file requests through /mohon and the Kepala Dinas and Kepala Bidang
dispose of them, then started again, more than twenty times. People behave as people
do: they type once and wait for the bot; a tap answered with "silakan ketuk lagi" is
tapped again. Afterwards no request is lost, no card or notice was sent twice, every
requester holds their ticket and their request letter, and the activity record
verifies."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import Document, OutboxMessage, Request
from bot.demo.standin import FakeTelegram, fake_telegram
from bot.services.audit.chain import verify_chain
from bot.services.outbox.sending import IN_DOUBT
from tests.support.cli import clocked, office_env
from tests.support.people import text_of
from tests.support.running_bot import bot_env, linked_office

PEOPLE = {"requester": 7951, "opd_other": 7952, "kadis": 7953, "kabid_a": 7954}
FILINGS = 3  # per requester
KILLS = 22
WAIT = 90.0  # seconds a person waits for the bot across restarts

pytestmark = pytest.mark.slow


class Bot:
    """`pulih run` as a process that the test kills and starts again."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.command, self.env, self.log = command, env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT)
        self.starts += 1

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)
            self.process = None


class Person:
    def __init__(self, fake: FakeTelegram, user_id: int) -> None:
        self.fake, self.user_id = fake, user_id

    def messages(self) -> dict[int, dict[str, Any]]:
        with self.fake._lock:  # a snapshot: the server thread adds meanwhile
            return dict(self.fake.chat(self.user_id).messages)

    async def shown(self, words: str, after: int = 0) -> tuple[int, dict[str, Any]]:
        """The first message with id > `after` that contains `words`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while loop.time() < deadline:
            for message_id, message in sorted(self.messages().items()):
                if message_id > after and words in text_of(message):
                    return message_id, message
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.user_id} waited {WAIT} s for {words!r}:\n"
                             + self.fake.screens())

    async def tap(self, message_id: int, label: str, then: str) -> int:
        """Tap the button until the bot acts on it; the id of the message `then`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while loop.time() < deadline:
            message = self.messages()[message_id]
            data = next(b["callback_data"] for row in message["reply_markup"]["inline_keyboard"]
                        for b in row if label in b["text"])
            query = self.fake.user_taps(self.user_id, self.user_id, message_id, data)
            while loop.time() < deadline:
                answered = self.fake.answered.get(query)
                if answered is not None and "ketuk lagi" in str(answered.get("text")):
                    break  # the bot died before acting on it: tap again
                found = [i for i, m in sorted(self.messages().items())
                         if i > message_id and then in text_of(m)]
                if found:
                    return found[0]
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.user_id}: tapping {label!r} never led to {then!r}:\n"
                             + self.fake.screens())

    async def says(self, words: str, then: str, after: int) -> int:
        self.fake.user_says(self.user_id, words)
        return (await self.shown(then, after))[0]


async def file_requests(person: Person, filings: int) -> list[str]:
    """File `filings` requests through /mohon; the tickets the bot gave."""
    tickets = []
    for number in range(filings):
        last = max(person.messages(), default=0)
        asked = await person.says("/mohon", "Sistem mana", last)
        system = person.messages()[asked]["reply_markup"]["inline_keyboard"][0][0]["text"]
        scope = await person.tap(asked, system, "Apa yang perlu dipulihkan")
        point = await person.tap(scope, "Database", "Titik pemulihan")
        reason = await person.tap(point, "Backup terakhir", "Tuliskan alasan")
        impact = await person.says(f"Data rusak nomor {number}", "dampaknya", reason)
        contact = await person.says("Layanan terhenti", "narahubung", impact)
        letter = await person.says("Andi 0812", "Surat permohonan", contact)
        summary = await person.tap(letter, "Buatkan surat permohonan", "Periksa permohonan")
        ticket_message = await person.tap(summary, "Kirim", "Nomor tiket")
        text = text_of(person.messages()[ticket_message])
        tickets.append(text.split("Nomor tiket: ")[1].split()[0].rstrip("."))
    return tickets


async def dispose(person: Person, label: str, then: str, expected: int,
                  done: asyncio.Event) -> None:
    """Tap `label` on every card that offers it, until `expected` were acted on."""
    acted: set[int] = set()
    while len(acted) < expected:
        for message_id, message in sorted(person.messages().items()):
            buttons = [b["text"] for row in (message.get("reply_markup") or {}).get(
                "inline_keyboard", []) for b in row]
            if message_id in acted or not any(label in b for b in buttons):
                continue
            query = person.fake.user_taps(person.user_id, person.user_id, message_id, next(
                b["callback_data"] for row in message["reply_markup"]["inline_keyboard"]
                for b in row if label in b["text"]))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT
            while loop.time() < deadline:
                shown = person.messages()[message_id]
                if text_of(shown).startswith(then):
                    acted.add(message_id)
                    break
                answered = person.fake.answered.get(query)
                if answered is not None and "ketuk lagi" in str(answered.get("text")):
                    break
                await asyncio.sleep(0.1)
        if done.is_set() and len(acted) < expected:
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.1)


def test_twenty_kills_during_filing_and_dispositions_lose_and_repeat_nothing(
        tmp_path: Path) -> None:
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, PEOPLE)
        env = {**office_env(tmp_path), **bot_env(fake),
               "PULIH_DATABASE_URL": str(container.settings.database_url),
               "PULIH_DATA_DIR": str(container.settings.data_dir),
               "PULIH_INVENTORY": str(container.settings.inventory_path)}
        command, env = clocked(env)
        bot = Bot([*command, "run"], env, tmp_path / "pulih-run.log")
        try:
            asyncio.run(_scenario(fake, bot))
        finally:
            bot.kill(signal.SIGTERM)
        _check(container, fake)
        container.close()


async def _scenario(fake: FakeTelegram, bot: Bot) -> None:
    people = {key: Person(fake, user_id) for key, user_id in PEOPLE.items()}
    filed = asyncio.Event()
    expected = FILINGS * 2
    bot.start()
    work = [asyncio.create_task(file_requests(people["requester"], FILINGS)),
            asyncio.create_task(file_requests(people["opd_other"], FILINGS)),
            asyncio.create_task(dispose(people["kadis"], "Fajar Setiawan", "Didisposisikan",
                                        expected, filed)),
            asyncio.create_task(dispose(people["kabid_a"], "Tim Teknis (grup)", "Diteruskan",
                                        expected, filed))]
    rng = random.Random(16)  # noqa: S311 - moments to kill at, not secrets
    for _ in range(KILLS):
        await asyncio.sleep(rng.uniform(1.2, 3.5))  # start-up takes about a second
        bot.kill()
        for task in work:
            if task.done() and task.exception():
                raise task.exception()  # type: ignore[misc]
        bot.start()
    filed.set()
    await asyncio.wait_for(asyncio.gather(*work), timeout=300)
    # Everything queued goes out; then a last look that nothing more comes.
    await asyncio.sleep(5)
    assert bot.starts == KILLS + 1


def _check(container: Container, fake: FakeTelegram) -> None:
    with container.sessions() as session:
        requests = session.execute(select(Request).order_by(Request.id)).scalars().all()
        assert len(requests) == FILINGS * 2  # none lost, none filed twice
        assert all(r.state == "assigned_to_team" for r in requests), [r.state for r in requests]
        letters = {d.request_id for d in session.execute(select(Document)).scalars()
                   if d.kind == "surat_permohonan"}
        assert letters == {r.id for r in requests}
        pending = session.execute(select(OutboxMessage).where(
            OutboxMessage.status != "sent")).scalars().all()
        assert pending == [], [(m.dedupe_key, m.status) for m in pending]
        assert verify_chain(session).ok
        in_doubt = {(m.chat_id, json.loads(m.payload)["text"]) for m in session.execute(
            select(OutboxMessage).where(OutboxMessage.last_error == IN_DOUBT)).scalars()}
        tickets = {r.ticket: int(r.requester.telegram_id or 0) for r in requests}
    for ticket, chat in tickets.items():
        texts = fake.chat(chat).texts()
        assert sum(f"Nomor tiket: {ticket}" in t for t in texts) == 1, ticket
        assert any(ticket in str(m.get("caption")) and "document" in m
                   for m in fake.chat(chat).messages.values()), ticket
    sent = Counter((int(p["chat_id"]), str(p.get("text"))) for name, p in fake.calls
                   if name == "sendMessage" and "PLH-" in str(p.get("text")))
    twice = {k for k, n in sent.items() if n > 1}
    # No card or notice twice, but for one whose request was on its way to Telegram at
    # the very moment of a kill (README, "Exactly once": the window no bot can close, as
    # Telegram takes no idempotency key); the bot marks each such message as in doubt.
    assert twice <= in_doubt, twice - in_doubt
    assert len(in_doubt) <= KILLS // 4, in_doubt  # and that window is narrow
    documents = Counter((int(m["chat"]["id"]), m["document"]["file_name"])
                        for chat in fake.chats.values() for m in chat.messages.values()
                        if "document" in m)
    assert [k for k, n in documents.items() if n > 1] == []

