"""The real PTB Application, polling a fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.db.migrate import upgrade
from bot.db.models import Person, Request
from bot.demo.standin import TOKEN, Expect, FakeTelegram
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.services.people.actors import actor_by_nip
from bot.services.requests.notify import notify_move
from bot.services.requests.records import NewRequest, Scope, submit_request
from bot.settings import load_settings
from handlers.app import build_application, polling
from handlers.runtime import PulihApp
from tests.support.clock import running
from tests.support.office import NIPS, NOW, write_inventory

TEAM_CHAT = -1001000000001  # the team group of the test inventory


def chat_office(tmp_path: Path, fake: FakeTelegram,
                clock: Callable[[], datetime] | None = None,
                extra_env: dict[str, str] | None = None,
                emails: dict[str, str] | None = None) -> Container:
    """A migrated SQLite office whose bot talks to `fake` and tells time by `clock` (by
    default the tests' clock, running from NOW); `extra_env`: more settings; `emails`:
    e-mail addresses of people (keys of NIPS) in its inventory."""
    env = {"PULIH_DATABASE_URL": f"sqlite:///{tmp_path / 'pulih.sqlite3'}",
           "PULIH_DATA_DIR": str(tmp_path / "data"),
           "PULIH_INVENTORY": str(write_inventory(tmp_path / "office", emails=emails)),
           **bot_env(fake), "PULIH_ENV_FILE": str(tmp_path / "absent.env"),
           **(extra_env or {})}
    settings = load_settings(environ=env)
    container = bootstrap(settings, clock or running())
    upgrade(container.engine)
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(container.settings.inventory_path), NOW)
    return container


def bot_env(fake: FakeTelegram) -> dict[str, str]:
    """Settings that point the bot at the stand-in."""
    return {"PULIH_BOT_TOKEN": TOKEN, "PULIH_BOT_API_URL": f"{fake.url}/bot",
            "PULIH_BOT_FILE_URL": f"{fake.url}/file/bot"}


@asynccontextmanager
async def running_bot(container: Container, read_timeout: float = 5,
                      sweep_interval: float = 0.5,
                      progress_every: float = 0.5,
                      delivery_interval: float = 1.0,
                      housekeeping_first: float = 60.0,
                      outage_probe: float = 15.0, outage_quiet: float = 65.0,
                      watch_first: float | None = None,
                      mail_tick: float = 0.5) -> AsyncIterator[PulihApp]:
    """Start polling; on leaving, stop and fail if any handler raised. The morning backup
    watch runs only when `watch_first` is given (the test office's backup server is not
    there for most tests)."""
    application = build_application(container, read_timeout=read_timeout,
                                    sweep_interval=sweep_interval,
                                    progress_every=progress_every,
                                    delivery_interval=delivery_interval,
                                    housekeeping_first=housekeeping_first,
                                    outage_probe=outage_probe, outage_quiet=outage_quiet,
                                    watch_first=watch_first, mail_tick=mail_tick)
    async with polling(application) as errors:
        yield application
    assert errors == [], errors


async def until(fake: FakeTelegram, predicate: Callable[[], object], timeout: float = 20,
                what: str | None = None) -> None:
    """Until `predicate` holds; on time out, fail with what was awaited and what was seen."""
    await asyncio.to_thread(fake.wait_for, predicate, timeout, what)


def link(container: Container, nip: str, telegram_id: int) -> None:
    """Bind a person to a Telegram id, as `/start <code>` would have."""
    with container.unit_of_work() as session:
        person = session.execute(select(Person).where(Person.nip == nip)).scalar_one()
        person.telegram_id = telegram_id


def has_messages(fake: FakeTelegram, chat: int, count: int) -> Expect:
    """A condition: the chat shows at least `count` messages from the bot."""
    return Expect(f"{count} message(s) in chat {chat}",
                  lambda: len(fake.chat(chat).messages) >= count)


def answered(fake: FakeTelegram, query: str) -> Expect:
    """A condition: the bot has answered this callback query."""
    return Expect(f"an answer to tap {query}", lambda: query in fake.answered)


def linked_office(tmp_path: Path, fake: FakeTelegram, people: dict[str, int],
                  clock: Callable[[], datetime] | None = None,
                  extra_env: dict[str, str] | None = None,
                  emails: dict[str, str] | None = None) -> Container:
    """`chat_office` with each named person (a key of NIPS) bound to their Telegram id."""
    container = chat_office(tmp_path, fake, clock, extra_env, emails)
    for key, telegram_id in people.items():
        link(container, NIPS[key], telegram_id)
    return container


def file_request(container: Container, reason: str = "Tabel siswa rusak", *,
                 impact: str = "", team_chat_id: int = TEAM_CHAT) -> Request:
    """The test requester files a request for their portal, and the cards are enqueued."""
    now = container.clock()
    with container.unit_of_work() as session:
        request = submit_request(session, actor_by_nip(session, NIPS["requester"]),
                                 NewRequest("portal-pendidikan", Scope.DATABASE, reason,
                                            impact=impact), now,
                                 container.settings.timezone)
        notify_move(session, request, now, container.settings.timezone, team_chat_id)
        session.expunge(request)
        return request
