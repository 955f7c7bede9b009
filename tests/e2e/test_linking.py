"""Linking people to Telegram: a one-time code binds the numeric user id; unlinked users
get an explanation and nothing else. Runs the real Application against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import AuditEvent, Person
from bot.demo.standin import TOKEN, FakeTelegram
from bot.services.people.linking import invite
from tests.support.cli import office_env, pulih
from tests.support.office import NIPS, NOW
from tests.support.running_bot import chat_office, has_messages, running_bot, until

KADIS, STRANGER = 5001, 6666


@pytest.fixture
def office(tmp_path: Path, fake: FakeTelegram) -> Iterator[Container]:
    container = chat_office(tmp_path, fake)
    yield container
    container.close()


def _code(container: Container) -> str:
    with container.unit_of_work() as session:
        return invite(session, NIPS["kadis"], NOW)[1]


def _telegram_id(container: Container, nip: str) -> int | None:
    with container.sessions() as session:
        return session.execute(select(Person.telegram_id).where(Person.nip == nip)
                               ).scalar_one()


@pytest.mark.dates
def test_a_person_links_with_the_code_and_a_stranger_cannot(
        office: Container, fake: FakeTelegram) -> None:
    code = _code(office)

    async def scenario() -> None:
        async with running_bot(office):
            fake.user_says(STRANGER, "/bantuan")
            await until(fake, lambda: len(fake.chat(STRANGER).messages) == 1)
            fake.user_says(KADIS, f"/start {code}")
            await until(fake, lambda: len(fake.chat(KADIS).messages) == 1)
            fake.user_says(STRANGER, f"/start {code}")  # the same code, another account
            await until(fake, lambda: len(fake.chat(STRANGER).messages) == 2)
            fake.user_says(KADIS, "/bantuan")
            await until(fake, lambda: len(fake.chat(KADIS).messages) == 2)

    asyncio.run(scenario())
    stranger, kadis = fake.chat(STRANGER).texts(), fake.chat(KADIS).texts()
    assert "belum terhubung dengan Pulih" in stranger[0]
    assert "Selamat datang, Ahmad Rizali" in kadis[0] and "Kepala Dinas" in kadis[0]
    assert "sudah dipakai" in stranger[1]
    assert "/status" in kadis[1] and "/antrian" in kadis[1]
    assert "/mohon" not in kadis[1]  # only agency staff file requests
    assert _telegram_id(office, NIPS["kadis"]) == KADIS
    with office.sessions() as session:
        linked = session.execute(select(AuditEvent).where(
            AuditEvent.action == "telegram_linked")).scalars().all()
        assert len(linked) == 1 and linked[0].actor_name == "Ahmad Rizali"
    assert [c["command"] for c in fake.commands] == ["mohon", "status", "antrian", "bantuan"]


@pytest.mark.dates
def test_a_wrong_or_expired_code_changes_nothing(office: Container,
                                                 fake: FakeTelegram) -> None:
    code = _code(office)
    fresh = _code(office)  # a new invitation makes the earlier one stop working

    async def scenario() -> None:
        async with running_bot(office):
            for attempt, sent in enumerate((code, "bukan-kode", "<b>x</b>"), start=1):
                fake.user_says(KADIS, f"/start {sent}")
                await until(fake, has_messages(fake, KADIS, attempt))

    asyncio.run(scenario())
    answers = fake.chat(KADIS).texts()
    assert "kedaluwarsa" in answers[0]
    assert "tidak dikenal" in answers[1] and "tidak dikenal" in answers[2]
    assert _telegram_id(office, NIPS["kadis"]) is None
    assert fresh != code


def test_the_start_command_in_a_group_is_refused(office: Container,
                                                 fake: FakeTelegram) -> None:
    code = _code(office)

    async def scenario() -> None:
        async with running_bot(office):
            fake.user_says(KADIS, f"/start {code}", chat_id=-100123, chat_type="supergroup")
            await until(fake, lambda: len(fake.chat(-100123).messages) == 1)

    asyncio.run(scenario())
    assert "chat pribadi" in fake.chat(-100123).texts()[0]
    assert _telegram_id(office, NIPS["kadis"]) is None


def test_people_invite_prints_a_deep_link_to_the_bot(tmp_path: Path,
                                                     fake: FakeTelegram) -> None:
    env = {**office_env(tmp_path), "PULIH_BOT_TOKEN": TOKEN,
           "PULIH_BOT_API_URL": f"{fake.url}/bot", "PULIH_BOT_FILE_URL": f"{fake.url}/file/bot"}
    assert pulih(env, "db", "upgrade").returncode == 0
    assert pulih(env, "inventory", "sync").returncode == 0
    result = pulih(env, "people", "invite", NIPS["kabid_a"])
    assert result.returncode == 0, result.stderr
    assert f"Fajar Setiawan (NIP {NIPS['kabid_a']}): https://t.me/pulih_uji_bot?start=" \
        in result.stdout
    unknown = pulih(env, "people", "invite", "199001012020011999")
    assert unknown.returncode == 1
    assert "Tidak ada pegawai aktif dengan NIP 199001012020011999" in unknown.stderr
