"""The refusal matrix in chat: each person tapping each decision button they may not use
(forged or forwarded cards included), stale cards, double taps and unlinked users: every
tap is answered with a refusal and nothing changes; then the rightful tap works. Who may
tap what is written here from the SOP: the Kepala Dinas dispositions (step 2), the
Kepala Bidang it went to assigns (step 3), the requesting agency confirms (step 8)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bootstrap import Container
from bot.db.models import Request
from bot.demo.standin import FakeTelegram, fake_telegram
from bot.services.people.actors import actor_by_nip
from bot.services.requests.notify import notify_move
from bot.workflow.sop import State
from handlers.callbacks import Tap
from tests.integration.helpers import place_request, snapshot
from tests.support.office import NIPS, NOW
from tests.support.running_bot import (
    answered,
    chat_office,
    has_messages,
    link,
    running_bot,
    until,
)

TEAM = -1001000000001
PEOPLE = {"requester": 7401, "opd_other": 7402, "kadis": 7403, "kabid_a": 7404,
          "kabid_b": 7405, "tim_exec": 7406, "auditor": 7407, "admin": 7408}
UNLINKED = 7499
KABID_A = "kabid_a"


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, FakeTelegram]]:
    with fake_telegram() as fake:
        container = chat_office(tmp_path, fake, clock=lambda: NOW)
        for key, telegram_id in PEOPLE.items():
            link(container, NIPS[key], telegram_id)
        yield container, fake
        container.close()


def _place(container: Container, state: State) -> int:
    with container.unit_of_work() as session:
        kabid = actor_by_nip(session, NIPS[KABID_A])
        request = place_request(session, state, actor_by_nip(session, NIPS["requester"]),
                                kabid, actor_by_nip(session, NIPS["tim_exec"]))
        notify_move(session, request, NOW, container.settings.timezone, TEAM)
        return request.id


def _version(container: Container, request_id: int) -> int:
    with container.sessions() as session:
        request = session.get(Request, request_id)
        assert request is not None
        return request.version


# (state, verb, argument, who may) - the SOP's answer, not the rules module's
CARDS = [
    (State.SUBMITTED, "d", "kabid_a", "kadis"),
    (State.SUBMITTED, "r", None, "kadis"),
    (State.SUBMITTED, "x", None, "kadis"),
    (State.DISPOSED_TO_KABID, "a", 0, "kabid_a"),
    (State.NOTIFIED, "ok", None, "requester"),
    (State.NOTIFIED, "no", None, "requester"),
]


def test_every_wrong_tap_is_refused_and_changes_nothing(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    answers: list[tuple[str, str, str, str]] = []
    unchanged: list[bool] = []

    async def tap(user: int, data: str) -> str:
        query = fake.user_taps(user, user, fake.placeholder(user), data)
        await until(fake, answered(fake, query))
        return str(fake.answered[query].get("text", ""))

    async def scenario() -> None:
        async with running_bot(container):
            for state, verb, argument, rightful in CARDS:
                request_id = _place(container, state)
                person = None
                if isinstance(argument, str):
                    with container.sessions() as session:
                        person = actor_by_nip(session, NIPS[argument]).person_id
                target = person if isinstance(argument, str) else argument
                data = Tap(verb, request_id, _version(container, request_id), target).encode()
                with container.sessions() as session:
                    before = snapshot(session, request_id)
                for who in [*PEOPLE, "unlinked"]:
                    if who == rightful:
                        continue
                    user = UNLINKED if who == "unlinked" else PEOPLE[who]
                    answers.append((state.value, verb, who, await tap(user, data)))
                with container.sessions() as session:
                    unchanged.append(snapshot(session, request_id) == before)
                answer = await tap(PEOPLE[rightful], data)
                answers.append((state.value, verb, rightful, answer))
                # the same tap again: already handled
                if verb in ("d", "a", "ok"):
                    answers.append((state.value, verb, f"{rightful} again",
                                    await tap(PEOPLE[rightful], data)))
            await until(fake, has_messages(fake, TEAM, 1))

    asyncio.run(scenario())
    assert all(unchanged)
    for state, verb, who, answer in answers:
        rightful = next(c[3] for c in CARDS if c[0].value == state and c[1] == verb)
        if who == rightful:
            expected = "Tulis alasannya di chat ini." if verb in ("r", "x", "no") \
                else "Tersimpan."
            assert answer == expected, (state, verb, who, answer)
        elif who == "unlinked":
            assert answer == "Akun Anda belum terhubung dengan Pulih.", (state, verb)
        elif who.endswith("again"):
            assert answer.startswith("Sudah diproses"), (state, verb, answer)
        else:
            assert answer not in ("Tersimpan.", "Tulis alasannya di chat ini."), \
                (state, verb, who, answer)
            assert answer, (state, verb, who)
    assert len(answers) == len(CARDS) * (len(PEOPLE) + 1) + 3


def test_a_forged_or_broken_button_is_refused(office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office
    request_id = _place(container, State.SUBMITTED)
    forged = [f"v1:d:{request_id}:1:999999", f"v1:zz:{request_id}:1", "v2:d:1:1",
              "'; DROP TABLE requests; --", f"v1:d:{request_id}:999:1"]

    async def scenario() -> list[str]:
        async with running_bot(container):
            texts = []
            for data in forged:
                query = fake.user_taps(PEOPLE["kadis"], PEOPLE["kadis"],
                                       fake.placeholder(PEOPLE["kadis"]), data)
                await until(fake, answered(fake, query))
                texts.append(str(fake.answered[query]["text"]))
            return texts

    texts = asyncio.run(scenario())
    assert texts[0] == "Pilih Kepala Bidang tujuan disposisi."
    assert all("tidak dikenal atau sudah usang" in t for t in texts[1:4])
    assert texts[4].startswith("Sudah diproses")
    with container.sessions() as session:
        assert snapshot(session, request_id).state == State.SUBMITTED.value
