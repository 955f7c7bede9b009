"""Floods are absorbed: a stranger hammering a card in the team group never makes the bot
post there, one person sending fifty /mohon in a minute gets a bounded number of answers,
and everyone else is served as usual meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bootstrap import Container
from bot.demo.standin import FakeTelegram, fake_telegram
from bot.services.people.actors import actor_by_nip
from bot.services.requests.notify import notify_move
from bot.workflow.sop import State
from handlers.limits import PER_MINUTE
from tests.integration.helpers import place_request
from tests.support.office import NIPS, NOW
from tests.support.running_bot import answered, has_messages, linked_office, running_bot, until

TEAM = -1001000000001
PEOPLE = {"requester": 7801, "kadis": 7802, "kabid_a": 7803, "tim_exec": 7804}
STRANGER = 7899  # in the team group, not linked to anyone in the inventory


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram]]:
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, PEOPLE)
        with container.unit_of_work() as session:
            request = place_request(session, State.ASSIGNED_TO_TEAM,
                                    actor_by_nip(session, NIPS["requester"]),
                                    actor_by_nip(session, NIPS["kabid_a"]),
                                    actor_by_nip(session, NIPS["tim_exec"]))
            notify_move(session, request, NOW, container.settings.timezone, TEAM)
        yield container, fake
        container.close()


def test_two_hundred_taps_by_a_stranger_never_post_into_the_team_group(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office

    async def scenario() -> None:
        async with running_bot(container):
            await until(fake, has_messages(fake, TEAM, 2),
                        what="the team's card and the disposition sheet")
            card = next(iter(fake.chat(TEAM).messages.values()))
            data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            before = len(fake.chat(TEAM).messages)
            for _ in range(200):
                fake.user_taps(STRANGER, TEAM, card["message_id"], data,
                               first_name="Orang Asing")
            await until(fake, lambda: any("Terlalu banyak" in str(a.get("text"))
                                          for a in fake.answered.values()),
                        timeout=60, what="the stranger told to slow down")
            await asyncio.sleep(1.0)  # the rest of the flood drains, unanswered
            assert len(fake.chat(TEAM).messages) == before  # nothing posted in the group
            # Meanwhile the team is served as usual.
            member = fake.user_taps(PEOPLE["tim_exec"], TEAM, card["message_id"], data,
                                    first_name="Dimas")
            await until(fake, answered(fake, member), timeout=60)

    asyncio.run(scenario())
    answers = [a.get("text") for q, a in fake.answered.items()]
    assert answers.count("Akun Anda belum terhubung dengan Pulih.") <= PER_MINUTE
    assert len(fake.answered) <= PER_MINUTE + 2  # served, one slow-down, the member's


def test_fifty_mohon_in_a_minute_get_a_bounded_answer_and_others_are_served(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    requester, kadis = PEOPLE["requester"], PEOPLE["kadis"]

    async def scenario() -> None:
        async with running_bot(container):
            for _ in range(50):
                fake.user_says(requester, "/mohon", first_name="Andi")
            fake.user_says(kadis, "/antrian", first_name="Ahmad")
            await until(fake, has_messages(fake, kadis, 1), timeout=60,
                        what="the Kepala Dinas's queue while the requester floods")
            await until(fake, lambda: any("Terlalu banyak" in t
                                          for t in fake.chat(requester).texts()),
                        timeout=60, what="the slow-down notice")
            await asyncio.sleep(1.0)

    asyncio.run(scenario())
    texts = fake.chat(requester).texts()
    assert 0 < sum("Sistem mana" in t for t in texts) <= PER_MINUTE
    assert sum("Terlalu banyak" in t for t in texts) == 1
