"""Telegram faults injected by the fake server: 429 with retry_after, 502, a timeout and a
user who blocked the bot. Every notification arrives exactly once; the blocked one is
kept and reported to the admins."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import OutboxMessage, Person, RoleAssignment
from bot.demo.standin import FakeTelegram, Fault, fake_telegram
from bot.services.outbox.queue import Attachment, Reply, enqueue, enqueue_reply
from tests.support.office import NIPS
from tests.support.running_bot import chat_office, has_messages, link, running_bot, until

PEOPLE = {"kadis": 7301, "kabid_a": 7302, "tim_exec": 7303, "requester": 7304, "admin": 7305}
BLOCKED = PEOPLE["requester"]


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram]]:
    with fake_telegram() as fake:
        container = chat_office(tmp_path, fake)
        for key, telegram_id in PEOPLE.items():
            link(container, NIPS[key], telegram_id)
        yield container, fake
        container.close()


def statuses(container: Container) -> dict[str, str]:
    with container.sessions() as session:
        return {r.dedupe_key: r.status for r in session.execute(select(OutboxMessage))
                .scalars()}


def test_every_notification_arrives_once_through_faults(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    now = container.clock()
    with container.unit_of_work() as session:
        for key in ("kadis", "kabid_a", "tim_exec", "requester"):
            enqueue(session, key=f"uji:{key}", chat_id=PEOPLE[key], kind="notice",
                    text=f"Pesan untuk {key}", now=now)
        # the same notification enqueued again (a retried handler) is not added twice
        assert not enqueue(session, key="uji:kadis", chat_id=PEOPLE["kadis"], kind="notice",
                           text="Pesan untuk kadis", now=now)
    fake.blocked.add(BLOCKED)
    fake.fail_next("sendMessage", Fault(429, "Too Many Requests: retry after 1",
                                        retry_after=1))
    fake.fail_next("sendMessage", Fault(502, "Bad Gateway"))
    fake.fail_next("sendMessage", Fault(502, "Bad Gateway", delay=3.0))  # longer than read

    async def scenario() -> None:
        async with running_bot(container, read_timeout=1.5):
            for key in ("kadis", "kabid_a", "tim_exec"):
                await until(fake, has_messages(fake, PEOPLE[key], 1), timeout=40)
            await until(fake, has_messages(fake, PEOPLE["admin"], 1), timeout=40)
            await asyncio.sleep(2.5)  # later rounds must not send anything again

    asyncio.run(scenario())
    for key in ("kadis", "kabid_a", "tim_exec"):
        assert fake.chat(PEOPLE[key]).texts() == [f"Pesan untuk {key}"]
    assert fake.chat(BLOCKED).messages == {}
    admin = fake.chat(PEOPLE["admin"]).texts()
    assert len(admin) == 1 and str(BLOCKED) in admin[0] and "memblokir bot" in admin[0]
    faults = [p for name, p in fake.calls if name == "sendMessage"]
    assert len(faults) >= 3 + 3 + 1  # three faults, three deliveries, one refusal at least
    assert statuses(container) == {"uji:kadis": "sent", "uji:kabid_a": "sent",
                                   "uji:tim_exec": "sent", "uji:requester": "blocked",
                                   **{k: "sent" for k in statuses(container)
                                      if k.startswith("admin:")}}


@pytest.mark.slow
def test_a_round_that_outlasts_the_interval_is_waited_out_quietly(
        office: tuple[Container, FakeTelegram], caplog: pytest.LogCaptureFixture) -> None:
    """Telegram answering slowly keeps a round busy for seconds: the ticks meanwhile
    return (no scheduler warning each second), and the message arrives once after."""
    container, fake = office
    with container.unit_of_work() as session:
        enqueue(session, key="uji:lambat", chat_id=PEOPLE["kadis"], kind="notice",
                text="Pesan lewat Telegram yang lambat", now=container.clock())
    fake.fail_next("sendMessage", Fault(502, "Bad Gateway", delay=3.5))

    async def scenario() -> None:
        async with running_bot(container, read_timeout=5):
            await until(fake, has_messages(fake, PEOPLE["kadis"], 1), timeout=40)
            await asyncio.sleep(1.5)

    with caplog.at_level("WARNING"):
        asyncio.run(scenario())
    assert fake.chat(PEOPLE["kadis"]).texts() == ["Pesan lewat Telegram yang lambat"]
    skipped = [r.getMessage() for r in caplog.records if "running instances" in r.getMessage()]
    assert skipped == []


def test_an_outbox_row_pointing_at_the_bots_ssh_key_sends_nothing(
        office: tuple[Container, FakeTelegram], tmp_path: Path) -> None:
    """A row written into the outbox by someone else, naming the bot's private key (or a
    link in the documents folder that leads to it): refused, nothing sent, admins told."""
    container, fake = office
    key = container.settings.data_dir / "ssh" / "id_ed25519"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY-----\nRAHASIA\n")
    documents = container.settings.data_dir / "documents"
    documents.mkdir(parents=True, exist_ok=True)
    (documents / "laporan-palsu.pdf").symlink_to(key)
    with container.unit_of_work() as session:
        for name, path in (("kunci", key), ("tautan", documents / "laporan-palsu.pdf")):
            enqueue(session, key=f"uji:{name}", chat_id=PEOPLE["kadis"], kind="document",
                    text="Laporan", now=container.clock(),
                    attachment=Attachment(str(path), "laporan.pdf"))

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, PEOPLE["admin"], 2), timeout=40)

    asyncio.run(scenario())
    assert fake.sent("sendDocument") == [] and fake.files == {}
    assert fake.chat(PEOPLE["kadis"]).messages == {}
    alerts = fake.chat(PEOPLE["admin"]).texts()
    assert all("di luar folder dokumen Pulih" in text for text in alerts), alerts
    assert all("RAHASIA" not in text for text in alerts)
    assert statuses(container) == {"uji:kunci": "failed", "uji:tautan": "failed",
                                   **{k: "sent" for k in statuses(container)
                                      if k.startswith("admin:")}}


@pytest.mark.slow
def test_alerts_about_a_failed_message_never_breed_more_alerts(
        office: tuple[Container, FakeTelegram]) -> None:
    """Three admins, one who blocked the bot and one whose account is gone: a message to a
    blocked user alerts the three once; the two alerts that fail are logged, not alerted
    about again. (Before, the outbox grew by three rows a second.)"""
    container, fake = office
    admins = {"admin": PEOPLE["admin"], "auditor": 7306, "tim_other": 7307}
    with container.unit_of_work() as session:
        for key in ("auditor", "tim_other"):
            person = session.execute(select(Person).where(Person.nip == NIPS[key])).scalar_one()
            person.telegram_id = admins[key]
            session.add(RoleAssignment(person_id=person.id, role="admin"))
        enqueue(session, key="uji:diblokir", chat_id=BLOCKED, kind="notice",
                text="Pesan untuk pemohon", now=container.clock())
    fake.blocked.update({BLOCKED, admins["auditor"]})
    fake.deleted.add(admins["tim_other"])

    async def scenario() -> None:
        # Rounds every 0.25 s for 15 s: the sixty rounds a deployed bot makes in a minute
        # (one a second), which at 3 new rows a round was 180 rows before the fix.
        async with running_bot(container, delivery_interval=0.25):
            await until(fake, has_messages(fake, admins["admin"], 1), timeout=40)
            await asyncio.sleep(15)

    asyncio.run(scenario())
    rows = statuses(container)
    assert len(rows) == 4, rows  # the message and one alert per admin, no more
    alerts = {k: v for k, v in rows.items() if k.startswith("admin:")}
    assert sorted(alerts.values()) == ["blocked", "blocked", "sent"]
    assert len(fake.chat(admins["admin"]).messages) == 1


def test_messages_a_crash_caught_mid_send_go_out_once_after_the_restart(
        office: tuple[Container, FakeTelegram]) -> None:
    """A bot killed in the middle of a send leaves the row marked as being sent: after
    the restart a rewrite that had reached Telegram counts as done (Telegram answers
    "not modified"), one that had not is made, and a new message is sent."""
    container, fake = office
    done_before = fake.placeholder(PEOPLE["kadis"], "Dikembalikan oleh Ahmad")
    not_yet = fake.placeholder(PEOPLE["kabid_a"], "kartu lama")
    now = container.clock()
    with container.unit_of_work() as session:
        enqueue_reply(session, key="uji:cap-sudah", chat_id=PEOPLE["kadis"],
                      reply=Reply("Dikembalikan oleh Ahmad", edit=done_before), now=now)
        enqueue_reply(session, key="uji:cap-belum", chat_id=PEOPLE["kabid_a"],
                      reply=Reply("Didisposisikan oleh Ahmad", edit=not_yet), now=now)
        enqueue(session, key="uji:baru", chat_id=PEOPLE["tim_exec"], kind="notice",
                text="Kabar untuk tim", now=now)
        for row in session.execute(select(OutboxMessage)).scalars():
            row.status, row.attempts = "sending", 1  # as the crash left them

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, PEOPLE["tim_exec"], 1), timeout=20)
            await until(fake, lambda: set(statuses(container).values()) == {"sent"})
            await asyncio.sleep(1.5)

    asyncio.run(scenario())
    assert fake.chat(PEOPLE["kadis"]).texts() == ["Dikembalikan oleh Ahmad"]
    assert fake.chat(PEOPLE["kabid_a"]).texts() == ["Didisposisikan oleh Ahmad"]
    assert fake.chat(PEOPLE["tim_exec"]).texts() == ["Kabar untuk tim"]
    assert fake.chat(PEOPLE["admin"]).messages == {}  # nothing to report
