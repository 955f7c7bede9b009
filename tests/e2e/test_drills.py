"""Restore drills in the running bot: /uji from the team group goes through the restore
queue and comes back as a report in the group; a scheduled drill starts by itself; anyone
but the Tim Teknis is refused. The live data stays as it was throughout."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.db.migrate import upgrade
from bot.db.models import RestoreRun
from bot.demo.lab.fleet import Fleet, make_fleet
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.sshd import SshServer
from bot.demo.office_lab import latest_point
from bot.demo.standin import FakeTelegram, fake_telegram
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.settings import load_settings
from tests.support.clock import NOW, WITA, running
from tests.support.running_bot import bot_env, link, running_bot, until

pytestmark = pytest.mark.dates

TEAM = -1001000000099
MEMBER, OUTSIDER = 7701, 7702
NIPS = {"tim": "199003172015031002", "opd": "198707192011011006"}


def head() -> str:
    return f'''[office]
code = "DISKOMINFO"
name = "Dinas Komunikasi dan Informatika"
address = ["Tenggarong"]

[team]
group_chat_id = {TEAM}

[watch]
drill_at = "00.00"

[[agencies]]
code = "BKPSDM"
name = "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia"

[[people]]
nip = "{NIPS['tim']}"
name = "Dimas Pratama"
roles = ["tim"]
agency = "DISKOMINFO"

[[people]]
nip = "{NIPS['opd']}"
name = "Andi Saputra"
roles = ["opd"]
agency = "BKPSDM"
'''


@pytest.fixture
def lab(tmp_path: Path, backup_server: SshServer, target_server: SshServer, mariadb: MariaDB,
        pg_server: str) -> Iterator[tuple[Container, Fleet, FakeTelegram]]:
    fleet = make_fleet(tmp_path / "fleet", {"backup-a": backup_server}, target_server,
                       mariadb, pg_server, ["BKPSDM"], 3, latest_point(NOW, WITA), rows=300)
    fleet.damage()
    inventory = tmp_path / "inventory.toml"
    # sys03 (files) is drilled every 30 days on the office's schedule (from 00.00: due now).
    inventory.write_text(fleet.inventory_text(head()).replace(
        'code = "sys03"\n', 'code = "sys03"\ndrill_every_days = 30\n'))
    with fake_telegram() as fake:
        settings = load_settings(environ={
            "PULIH_DATABASE_URL": f"sqlite:///{tmp_path / 'pulih.sqlite3'}",
            "PULIH_DATA_DIR": str(tmp_path / "data"), "PULIH_INVENTORY": str(inventory),
            **bot_env(fake), "PULIH_ENV_FILE": str(tmp_path / "absent.env")})
        container = bootstrap(settings, running())
        upgrade(container.engine)
        with container.unit_of_work() as session:
            sync_inventory(session, load_inventory(inventory), NOW)
        link(container, NIPS["tim"], MEMBER)
        link(container, NIPS["opd"], OUTSIDER)
        yield container, fleet, fake
        container.close()


def reports(fake: FakeTelegram) -> list[dict[str, object]]:
    return [m for m in fake.chat(TEAM).messages.values()
            if str(m.get("caption", "")).startswith("UJI PEMULIHAN BERHASIL")]


@pytest.mark.slow  # two drills through the queue and the bot: about 20 s
def test_a_drill_asked_in_the_team_group_and_a_scheduled_one_each_end_in_a_report(
        lab: tuple[Container, Fleet, FakeTelegram]) -> None:
    container, fleet, fake = lab
    damaged = {s.code: fleet.digest(s) for s in fleet.systems}

    async def scenario() -> None:
        async with running_bot(container, watch_first=3600):
            fake.user_says(OUTSIDER, "/uji sys02", chat_id=TEAM, chat_type="supergroup")
            fake.user_says(MEMBER, "/uji sys02", chat_id=TEAM, chat_type="supergroup")
            await until(fake, lambda: len(reports(fake)) >= 2, timeout=120,
                        what="two drill reports in the team group (asked, and scheduled)")

    asyncio.run(scenario())
    texts = fake.chat(TEAM).texts()
    assert any("hanya dapat diminta anggota Tim Teknis" in t for t in texts)
    assert any(t.startswith("Uji pemulihan #") and "masuk antrean restore" in t
               for t in texts)
    names = sorted(str(m["document"]["file_name"]) for m in reports(fake))  # type: ignore[index]
    assert names[0].startswith("laporan-uji-sys02-") and names[1].startswith("laporan-uji-sys03-")
    assert {s.code: fleet.digest(s) for s in fleet.systems} == damaged
    with container.sessions() as session:
        runs = session.execute(select(RestoreRun).order_by(RestoreRun.id)).scalars().all()
    assert sorted((r.kind, r.status, r.started_by is None) for r in runs) == [
        ("uji", "succeeded", False), ("uji", "succeeded", True)]
