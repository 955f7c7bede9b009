"""The morning backup watch in the running bot: at the office's watch time the team group
gets an alert per problem and one summary, and a restart the same day says nothing again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Container, bootstrap
from bot.db.migrate import upgrade
from bot.db.models import WatchRun
from bot.demo.lab.sshd import SshServer
from bot.demo.standin import FakeTelegram, fake_telegram
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.settings import load_settings
from tests.support.clock import running
from tests.support.running_bot import bot_env, running_bot, until
from tests.support.watch_lab import MORNING, TEAM, write_lab

pytestmark = pytest.mark.dates


@pytest.fixture
def office(tmp_path: Path, backup_server: SshServer) -> Iterator[tuple[Container, FakeTelegram]]:
    _, path = write_lab(tmp_path, backup_server)
    # The bot starts at 07.00 WITA: past the office's watch time (06.30), none run yet.
    morning = MORNING
    with fake_telegram() as fake:
        settings = load_settings(environ={
            "PULIH_DATABASE_URL": f"sqlite:///{tmp_path / 'pulih.sqlite3'}",
            "PULIH_DATA_DIR": str(tmp_path / "data"), "PULIH_INVENTORY": str(path),
            **bot_env(fake), "PULIH_ENV_FILE": str(tmp_path / "absent.env")})
        container = bootstrap(settings, running(morning))
        upgrade(container.engine)
        with container.unit_of_work() as session:
            sync_inventory(session, load_inventory(path), morning)
        yield container, fake
        container.close()


def team(fake: FakeTelegram) -> list[str]:
    return fake.chat(TEAM).texts()


def test_the_team_group_hears_of_each_backup_problem_once_and_gets_one_summary(
        office: tuple[Container, FakeTelegram]) -> None:
    container, fake = office

    async def scenario() -> None:
        async with running_bot(container, watch_first=0.1):
            await until(fake, lambda: any(t.startswith("PANTAUAN BACKUP") for t in team(fake)),
                        what="the morning's summary in the team group")
        # Started again the same morning: the day's watch is done, nothing is said again.
        async with running_bot(container, watch_first=0.1):
            await asyncio.sleep(1.5)

    asyncio.run(scenario())
    texts = team(fake)
    alerts = [t for t in texts if t.startswith("PERINGATAN BACKUP")]
    assert sorted(a.splitlines()[0].rsplit("(", 1)[1] for a in alerts) == [
        "bapenda)", "dukcapil)", "ekinerja)", "simpeg)"]
    summaries = [t for t in texts if t.startswith("PANTAUAN BACKUP")]
    assert len(summaries) == 1
    assert "Perlu perhatian: 4 sistem." in summaries[0]
    with container.sessions() as session:
        assert session.execute(select(func.count(WatchRun.id))).scalar_one() == 1
