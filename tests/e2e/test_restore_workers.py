"""Restores carried out by `pulih worker` processes, as on hosts of their own near the
data, with the bot only putting them in line (PULIH_RESTORE_IN_BOT=tidak) and all of them
sharing one PostgreSQL: the group sees the worker's progress and result, "Batal" reaches
the worker, and a worker killed mid-restore has its restore done again by another, from
a clean target, with SIMPEG's live data whole throughout."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from bot.db.models import AuditEvent, Request, RestoreRun, RestoreWorker
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.simpeg import snapshot
from bot.services.restores import AGAIN
from tests.support.cli import clocked, pulih
from tests.support.mariadb_lock import ReadLock
from tests.support.people import shown, text_of
from tests.support.running_bot import TEAM_CHAT, running_bot
from tests.support.sop_flow import Office, check_and_confirm, file_and_assign

GONE_AFTER = 6  # seconds (PULIH_WORKER_GONE_AFTER), short for the test


@pytest.fixture
def office_env() -> dict[str, str]:
    """The whole-SOP office (tests/e2e/conftest.py) whose bot carries out no restore."""
    return {"PULIH_RESTORE_IN_BOT": "tidak", "PULIH_WORKER_GONE_AFTER": str(GONE_AFTER)}


def alive_workers(office: Office) -> set[str]:
    with office.container.sessions() as session:
        return set(session.execute(select(RestoreWorker.executor).where(
            RestoreWorker.seen > time.time() - GONE_AFTER)).scalars())


@contextmanager
def worker(office: Office, name: str, grace: int = 5) -> Iterator[subprocess.Popen[str]]:
    """`pulih worker --name NAME` as a process of its own, once it is in the roster; at
    the end stopped as systemd would (SIGTERM), unless the test killed it."""
    command, env = clocked(dict(os.environ))
    log = (office.env_file.parent / f"worker-{name}.log").open("w")
    process = subprocess.Popen(
        [*command, "--env-file", str(office.env_file), "worker", "--name", name,
         "--grace", str(grace)], env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while name not in alive_workers(office):
            assert process.poll() is None, (office.env_file.parent /
                                            f"worker-{name}.log").read_text()
            assert time.monotonic() < deadline, "the worker never joined the roster"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def the_run(office: Office) -> RestoreRun:
    with office.container.sessions() as session:
        return session.execute(select(RestoreRun)).scalar_one()


def importing(office: Office) -> bool:
    with office.container.sessions() as session:
        run = session.execute(select(RestoreRun)).scalar_one_or_none()
        return run is not None and any(p["phase"] == "apply" for p in json.loads(run.phases))


@contextmanager
def holding(mariadb: MariaDB) -> Iterator[ReadLock]:
    """SIMPEG's tables read-locked: a restore's import waits (the run is seen mid-way)."""
    lock = ReadLock(mariadb)
    try:
        yield lock
    finally:
        lock.release()


async def typed_and_importing(office: Office, who: str) -> None:
    """`who` types the system's name; the restore is seen in its import."""
    await office.people[who].says("simpeg", TEAM_CHAT)
    await asyncio.to_thread(office.fake.wait_for, lambda: importing(office), 60)


def shadows(mariadb: MariaDB) -> list[str]:
    """Shadow databases left on the target (a rollback copy is kept on purpose)."""
    return [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_sh_")]


@pytest.mark.slow
def test_a_restore_done_by_a_worker_on_another_host_shows_its_progress_and_result_in_the_group(
        office: Office, mariadb: MariaDB) -> None:
    fake = office.fake

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office)
            with worker(office, "dc-kukar-1"):
                with holding(mariadb):  # the import waits: the run is seen mid-way
                    await typed_and_importing(office, "tim_exec")
                    # The group's message follows the worker's progress from the database.
                    await shown(fake, TEAM_CHAT, "Tahap 3/6: Pemulihan ke salinan sementara",
                                timeout=30)
                    listed = await asyncio.to_thread(pulih, dict(os.environ), "--env-file",
                                                     str(office.env_file), "queue")
                result = await shown(fake, TEAM_CHAT, "BERHASIL", timeout=120)
            assert "Dimas Pratama" in text_of(result)
            # `pulih queue` named the run, its worker and where it was.
            assert listed.returncode == 0, listed.stderr
            line = next(x for x in listed.stdout.splitlines() if x.startswith("#1 "))
            assert "simpeg" in line and "berjalan" in line and "dc-kukar-1" in line, \
                listed.stdout
            assert "- dc-kukar-1: zona -" in listed.stdout and "hidup" in listed.stdout

    asyncio.run(scenario())
    run = the_run(office)
    assert (run.status, run.worker) == ("succeeded", "dc-kukar-1")
    assert snapshot(mariadb) == office.states["good"]
    with office.container.sessions() as session:
        assert session.execute(select(Request.state)).scalar_one() == "report_submitted"
    # It left the roster when stopped (SIGTERM, nothing running).
    assert alive_workers(office) == set()


def test_batal_in_the_group_stops_a_worker_on_another_host_before_the_swap(
        office: Office, mariadb: MariaDB) -> None:
    fake = office.fake

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office, "tim_other")
            with worker(office, "dc-kukar-1"):
                with holding(mariadb):
                    await typed_and_importing(office, "tim_other")
                    answer = await office.people["tim_exec"].taps("Batal", TEAM_CHAT)
                    assert answer.startswith("Pembatalan diminta")
                    await asyncio.to_thread(fake.wait_for,
                                            lambda: the_run(office).cancel_by is not None, 10)
                result = await shown(fake, TEAM_CHAT, "DIBATALKAN", timeout=120)
            assert "Dimas Pratama" in text_of(result)

    asyncio.run(scenario())
    run = the_run(office)
    assert (run.status, run.worker) == ("cancelled", "dc-kukar-1")
    assert snapshot(mariadb) == office.states["damaged"]  # live data untouched
    assert [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_")] == []
    with office.container.sessions() as session:
        assert session.execute(select(Request.state)).scalar_one() == "backup_checked"


def test_a_worker_killed_mid_restore_has_its_restore_done_again_by_another_from_a_clean_target(
        office: Office, mariadb: MariaDB) -> None:
    fake = office.fake

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office)
            with worker(office, "dc-kukar-1") as first:
                with holding(mariadb):
                    await typed_and_importing(office, "tim_exec")
                    assert the_run(office).worker == "dc-kukar-1"
                    first.send_signal(signal.SIGKILL)
                    first.wait(10)
                # The second worker finds the first silent, cleans up after it on the
                # target and restores again.
                with worker(office, "dc-kukar-2"):
                    result = await shown(fake, TEAM_CHAT, "BERHASIL", timeout=180)
            assert "BERHASIL" in text_of(result)

    asyncio.run(scenario())
    run = the_run(office)  # one run, done again: not a second one
    assert (run.status, run.worker) == ("succeeded", "dc-kukar-2")
    again = [p for p in json.loads(run.phases) if p["status"] == AGAIN]
    assert len(again) == 1 and "dc-kukar-1" in again[0]["detail"]
    # What the first left on the target was removed first, and live checked untouched.
    assert "berhenti. Dibersihkan: folder staging" in again[0]["detail"], again[0]["detail"]
    assert "Data live tidak disentuh (diperiksa ulang" in again[0]["detail"]
    assert snapshot(mariadb) == office.states["good"]
    assert shadows(mariadb) == []
    with office.container.sessions() as session:
        assert session.execute(select(Request.state)).scalar_one() == "report_submitted"
        taken = session.execute(select(AuditEvent).where(
            AuditEvent.action == "restore_taken_back")).scalars().all()
        assert [json.loads(e.data)["from"] for e in taken] == ["dc-kukar-1"]


@pytest.mark.slow
def test_a_restore_on_a_worker_goes_on_while_the_bot_restarts_and_its_end_is_shown_after(
        office: Office, mariadb: MariaDB) -> None:
    fake = office.fake

    async def before_the_restart() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office)
            await typed_and_importing(office, "tim_exec")

    async def after_the_restart() -> dict[str, object]:
        async with running_bot(office.container):
            lock.release()
            return await shown(fake, TEAM_CHAT, "BERHASIL", timeout=120)

    with worker(office, "dc-kukar-1"):
        lock = ReadLock(mariadb)
        try:
            asyncio.run(before_the_restart())
            # The bot is down; the worker's restore is still held in its import.
            assert the_run(office).status == "running"
            result = asyncio.run(after_the_restart())
        finally:
            lock.release()
    run = the_run(office)
    assert (run.status, run.worker) == ("succeeded", "dc-kukar-1")
    # The restarted bot followed the same progress message to the end: no second one.
    shown_runs = [m for m in fake.chat(TEAM_CHAT).messages.values()
                  if "RESTORE PLH-" in text_of(m)]
    assert len(shown_runs) == 1 and "BERHASIL" in text_of(shown_runs[0]), shown_runs
    assert "BERHASIL" in text_of(result)
    assert snapshot(mariadb) == office.states["good"]


def said(office: Office, name: str) -> str:
    return (office.env_file.parent / f"worker-{name}.log").read_text()


@pytest.mark.slow
def test_a_worker_told_to_stop_mid_restore_lets_it_finish_within_its_grace(
        office: Office, mariadb: MariaDB) -> None:
    fake = office.fake

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office)
            with worker(office, "dc-kukar-1", grace=120) as first:
                with holding(mariadb):
                    await typed_and_importing(office, "tim_exec")
                    first.send_signal(signal.SIGTERM)  # as `systemctl stop` does
                    await asyncio.to_thread(fake.wait_for, lambda: "menunggu yang berjalan"
                                            in said(office, "dc-kukar-1"), 30)
                await shown(fake, TEAM_CHAT, "BERHASIL", timeout=120)
                assert await asyncio.to_thread(first.wait, 60) == 0

    asyncio.run(scenario())
    run = the_run(office)
    assert (run.status, run.worker) == ("succeeded", "dc-kukar-1")
    assert said(office, "dc-kukar-1").rstrip().endswith("Worker dc-kukar-1 berhenti.")
    assert alive_workers(office) == set()
    assert snapshot(mariadb) == office.states["good"]


@pytest.mark.slow
def test_a_worker_stopped_past_its_grace_hands_its_restore_to_another_at_once(
        office: Office, mariadb: MariaDB) -> None:
    fake = office.fake

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office)
            with worker(office, "dc-kukar-1", grace=1) as first, holding(mariadb):
                await typed_and_importing(office, "tim_exec")
                first.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(first.wait, 60) == 0
            assert "belum selesai dan diambil alih worker lain" in said(office, "dc-kukar-1")
            with worker(office, "dc-kukar-2"):
                await shown(fake, TEAM_CHAT, "BERHASIL", timeout=120)

    asyncio.run(scenario())
    run = the_run(office)
    assert (run.status, run.worker) == ("succeeded", "dc-kukar-2")
    again = [p for p in json.loads(run.phases) if p["status"] == AGAIN]
    assert len(again) == 1 and "dc-kukar-1 berhenti" in again[0]["detail"]
    assert snapshot(mariadb) == office.states["good"]
    assert shadows(mariadb) == []
