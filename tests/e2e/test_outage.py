"""A Bot API outage while the bot runs: told once in the log, retried without end, told
once when it is over, and the bot answers again afterwards."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.bootstrap import Container
from bot.demo.lab.loopback import free_port
from bot.demo.standin import FakeTelegram, Fault
from tests.support.running_bot import has_messages, linked_office, running_bot, until

REQUESTER = 3001



@pytest.fixture
def office(tmp_path: Path, fake: FakeTelegram) -> Iterator[Container]:
    container = linked_office(tmp_path, fake, {"requester": REQUESTER})
    yield container
    container.close()


def test_an_outage_is_one_log_line_then_one_when_it_ends_and_the_bot_answers_again(
        office: Container, fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pulih")

    def said(words: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records if words in r.getMessage()]

    async def scenario() -> None:
        # PTB waits 1, 1.5, 2.25 s between the failed polls: 4 s without one ends it.
        async with running_bot(office, outage_probe=0.3, outage_quiet=4):
            fake.fail_next("getUpdates", Fault(502, "Bad Gateway"), times=4)
            await until(fake, lambda: fake.faults_left() == 0, what="four failed polls")
            await until(fake, lambda: said("terhubung lagi"), what="the end of the outage")
            fake.user_says(REQUESTER, "/bantuan")
            await until(fake, has_messages(fake, REQUESTER, 1))

    asyncio.run(scenario())
    (down,) = said("Bot API tidak dapat dihubungi")
    assert "terus mencoba tanpa henti" in down.getMessage()
    (up,) = said("terhubung lagi")
    assert "(4 percobaan gagal)" in up.getMessage()
    assert not said("handler gagal")  # no traceback per failed poll


@pytest.mark.slow
def test_the_health_endpoint_says_503_during_an_outage_and_200_after(
        office: Container, fake: FakeTelegram) -> None:
    port = free_port()
    office.settings = replace(office.settings, health_listen=("127.0.0.1", port))
    answers: list[tuple[int, dict[str, object]]] = []

    def ask() -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/sehat", timeout=5) as got:
                return got.status, json.loads(got.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    async def scenario() -> None:
        async with running_bot(office, outage_probe=0.3, outage_quiet=4) as app:
            outage = app.bot_data.runtime.outage
            answers.append(await asyncio.to_thread(ask))
            fake.fail_next("getUpdates", Fault(502, "Bad Gateway"), times=4)
            await until(fake, lambda: outage.since is not None, what="a failed poll")
            answers.append(await asyncio.to_thread(ask))
            await until(fake, lambda: outage.since is None, what="the end of the outage")
            answers.append(await asyncio.to_thread(ask))

    asyncio.run(scenario())
    (before, during, after) = answers
    assert before[0] == 200 and before[1]["status"] == "ok"
    assert before[1]["basis_data"] == "ok" and before[1]["pesan_menunggu"] == 0
    assert during[0] == 503 and during[1] == {**during[1], "status": "bermasalah",
                                              "bot_api": "terputus", "basis_data": "ok"}
    assert after[0] == 200 and after[1]["bot_api"] == "ok"
    assert set(before[1]) == {"status", "bot_api", "basis_data", "pesan_menunggu",
                              "pesan_tertua_detik"}  # nothing about people or requests
