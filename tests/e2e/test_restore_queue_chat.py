"""A restore waits its turn in the restore queue (bot.durable): one confirmed in chat and
still waiting when the bot stopped runs after the restart, and is shown to the group."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.db.models import BackupCheck, Request, RestoreRun
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.simpeg import snapshot
from bot.services.people.actors import actor_by_nip
from bot.services.restores.teamwork import begin_restore
from tests.support.office import NIPS
from tests.support.people import shown
from tests.support.running_bot import TEAM_CHAT, running_bot
from tests.support.sop_flow import Office, check_and_confirm, file_and_assign


def test_a_restore_still_waiting_its_turn_when_the_bot_stopped_runs_after_the_restart(
        office: Office, mariadb: MariaDB) -> None:
    fake = office.fake

    async def before() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office)

    def confirmed_while_waiting() -> int:
        """The member's typed name recorded the run as waiting, and the bot stopped
        before its turn came (as a kill between the two would leave it)."""
        c = office.container
        with c.sessions() as session:
            request = session.execute(select(Request)).scalar_one()
            check = session.execute(select(BackupCheck).order_by(BackupCheck.id.desc())
                                    ).scalars().first()
            assert check is not None
            member = actor_by_nip(session, NIPS["tim_exec"])
            request_id, version, check_id = request.id, request.version, check.id
        return begin_restore(c, request_id, member, check_id, version, queued=True).run_id

    async def after() -> None:
        async with running_bot(office.container):
            await shown(fake, TEAM_CHAT, "BERHASIL", timeout=120)

    asyncio.run(before())
    run_id = confirmed_while_waiting()
    with office.container.sessions() as session:
        assert session.get(RestoreRun, run_id).status == "queued"  # type: ignore[union-attr]
    asyncio.run(after())
    with office.container.sessions() as session:
        run = session.get(RestoreRun, run_id)
        assert run is not None and run.status == "succeeded" and run.queue_slot
        assert session.execute(select(Request.state)).scalar_one() == "report_submitted"
    assert snapshot(mariadb) == office.states["good"]
