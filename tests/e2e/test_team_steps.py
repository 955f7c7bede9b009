"""Steps 4-8 off the happy path, in Telegram against real SSH and MariaDB: a cancelled, a
failed and a rolled-back restore, a returned report, "Belum sesuai" at step 8; and the
refusals: the typed name, a member outside the team, the executor ratifying. Each ends
in the right state, with SIMPEG's live data as it should be and the right people told."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import pytest
from sqlalchemy import select

from bot.db.models import Request, RestoreRun
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.simpeg import snapshot
from tests.support.cli import clocked
from tests.support.clock import LAST_NIGHT
from tests.support.mariadb_lock import ReadLock
from tests.support.people import shown, text_of
from tests.support.running_bot import TEAM_CHAT, running_bot
from tests.support.sop_flow import (
    Office,
    check_and_confirm,
    check_and_restore,
    file_and_assign,
)


def state_of(office: Office) -> str:
    with office.container.sessions() as session:
        return str(session.execute(select(Request.state)).scalar_one())


def runs(office: Office) -> list[RestoreRun]:
    with office.container.sessions() as session:
        return list(session.execute(select(RestoreRun).order_by(RestoreRun.id)).scalars())


def phase_started(office: Office, phase: str) -> bool:
    rows = runs(office)
    return bool(rows) and any(p["phase"] == phase for p in json.loads(rows[-1].phases))


def test_cancel_mid_restore_leaves_live_data_untouched_and_the_point_ready_again(
        office: Office, mariadb: MariaDB) -> None:
    fake, member = office.fake, office.people["tim_other"]

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office, "tim_other")
            lock = ReadLock(mariadb)
            try:
                await member.says("simpeg", TEAM_CHAT)
                await asyncio.to_thread(fake.wait_for, lambda: phase_started(office, "apply"),
                                        60)
                answer = await office.people["tim_exec"].taps("Batal", TEAM_CHAT)
                assert answer.startswith("Pembatalan diminta")
            finally:
                lock.release()
            result = await shown(fake, TEAM_CHAT, "DIBATALKAN", timeout=120)
            assert "Dimas Pratama" in text_of(result)
            buttons = [b["text"] for row in result["reply_markup"]["inline_keyboard"]
                       for b in row]
            assert buttons == ["Restore lagi", "Cek titik lain"]

    asyncio.run(scenario())
    assert snapshot(mariadb) == office.states["damaged"]
    assert state_of(office) == "backup_checked"
    assert [r.status for r in runs(office)] == ["cancelled"]
    assert not [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_")]


def test_a_failed_restore_is_reported_with_live_data_untouched_and_a_retry(
        office: Office, mariadb: MariaDB) -> None:
    # The backup's manifest promises rows the dump does not hold: verification fails.
    manifest = office.backup_root / "simpeg" / LAST_NIGHT / "manifest.json"
    manifest.write_text(json.dumps({"tables": {"pegawai": 99}}))
    fake, opd = office.fake, office.people["opd_other"]

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            result = await check_and_restore(office, ends="GAGAL")
            assert "Data live tidak disentuh" in text_of(result)
            assert "Ulangi (cek titik yang sama)" in json.dumps(result["reply_markup"])
            told = text_of(await shown(fake, opd.user_id, "Restore gagal"))
            # The agency hears that it failed and who follows up, not the technical why.
            assert "Tim Teknis sudah menerima rinciannya" in told
            assert "99" not in told and "127.0.0.1" not in told, told

    asyncio.run(scenario())
    assert snapshot(mariadb) == office.states["damaged"]
    assert state_of(office) == "restore_failed"
    assert [r.status for r in runs(office)] == ["failed"]


def test_rollback_after_a_restore_puts_the_previous_live_state_back(
        office: Office, mariadb: MariaDB) -> None:
    fake, member, opd = office.fake, office.people["tim_other"], office.people["opd_other"]

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_restore(office)
            assert snapshot(mariadb) == office.states["good"]
            assert await member.taps("Rollback", TEAM_CHAT) == "Tulis alasan rollback di grup."
            await shown(fake, TEAM_CHAT, "alasan rollback")
            await member.says("Aplikasi belum kompatibel dengan data lama", TEAM_CHAT)
            await shown(fake, TEAM_CHAT, "Rollback selesai")
            notice = await shown(fake, TEAM_CHAT, "Restore gagal (oleh Siti Nurhaliza)")
            assert "Aplikasi belum kompatibel" in text_of(notice)
            await shown(fake, opd.user_id, "Aplikasi belum kompatibel")

    asyncio.run(scenario())
    assert snapshot(mariadb) == office.states["damaged"]
    assert state_of(office) == "restore_failed"
    assert [r.status for r in runs(office)] == ["rolled_back"]


@pytest.mark.slow
def test_a_returned_report_goes_back_to_the_team_and_up_again(office: Office,
                                                               mariadb: MariaDB) -> None:
    fake, kabid, member = office.fake, office.people["kabid_a"], office.people["tim_exec"]

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_restore(office)
            await shown(fake, kabid.user_id, "LANGKAH 6")
            assert await kabid.taps("Kembalikan") == "Tulis alasannya di chat ini."
            await kabid.says("Lampirkan hasil uji login aplikasi.")
            await shown(fake, kabid.user_id, "Laporan dikembalikan oleh Fajar Setiawan")
            notice = await shown(fake, TEAM_CHAT, "Laporan dikembalikan Kepala Bidang")
            assert "Lampirkan hasil uji login aplikasi." in text_of(notice)
            assert await member.taps("Ajukan laporan lagi", TEAM_CHAT) == \
                "Laporan diajukan ke Kepala Bidang."
            await asyncio.to_thread(fake.wait_for, lambda: sum(
                "LANGKAH 6" in t for t in fake.chat(kabid.user_id).texts()) == 2, 60)

    asyncio.run(scenario())
    assert state_of(office) == "report_submitted"
    assert snapshot(mariadb) == office.states["good"]


@pytest.mark.slow
def test_belum_sesuai_at_step_eight_reopens_the_request_for_the_team(
        office: Office, mariadb: MariaDB) -> None:
    fake, kabid, opd = office.fake, office.people["kabid_a"], office.people["opd_other"]

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_restore(office)
            await shown(fake, kabid.user_id, "LANGKAH 6")
            await kabid.taps("Sahkan")
            await shown(fake, opd.user_id, "LANGKAH 8")
            assert await opd.taps("Belum sesuai") == "Tulis alasannya di chat ini."
            await opd.says("Data pegawai bulan ini belum muncul.")
            notice = await shown(fake, TEAM_CHAT, "DIBUKA KEMBALI")
            assert "Data pegawai bulan ini belum muncul." in text_of(notice)
            assert "Cek backup" in json.dumps(notice["reply_markup"])

    asyncio.run(scenario())
    assert state_of(office) == "reopened"
    assert snapshot(mariadb) == office.states["good"]  # the restored data stays live


def test_the_typed_name_is_required_and_only_the_team_may_restore(
        office: Office, mariadb: MariaDB) -> None:
    fake, member = office.fake, office.people["tim_exec"]

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office)
            await member.says("ya", TEAM_CHAT)
            await shown(fake, TEAM_CHAT, "Nama sistem tidak cocok")
            for outsider in ("kabid_a", "opd_other", "kadis"):
                answer = await office.people[outsider].taps("Restore titik ini", TEAM_CHAT)
                assert "hanya dapat dilakukan oleh JFT/Tim Teknis" in answer, answer
                answer = await office.people[outsider].taps("Cek titik lain", TEAM_CHAT)
                assert "hanya dapat dilakukan oleh JFT/Tim Teknis" in answer, answer
            # an outsider's message cannot confirm a member's pending restore either
            await member.taps("Restore titik ini", TEAM_CHAT)
            await office.people["kabid_a"].says("simpeg", TEAM_CHAT)
            await member.says("/batal", TEAM_CHAT)
            await shown(fake, TEAM_CHAT, "Dibatalkan. Tidak ada yang diubah.")

    asyncio.run(scenario())
    assert runs(office) == []
    assert snapshot(mariadb) == office.states["damaged"]
    assert state_of(office) == "backup_checked"


@pytest.mark.slow
def test_whoever_ran_the_restore_cannot_ratify_its_report(office: Office,
                                                           mariadb: MariaDB) -> None:
    fake, agus = office.fake, office.people["kabid_tim"]  # Kepala Bidang and team member

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office, kabid="kabid_tim", kabid_name="Agus Salim")
            await check_and_restore(office, who="kabid_tim")
            await shown(fake, agus.user_id, "LANGKAH 6")
            answer = await agus.taps("Sahkan")
            assert answer.startswith("Anda tidak dapat mengesahkan laporan restore"), answer

    asyncio.run(scenario())
    assert state_of(office) == "report_submitted"


def test_a_crash_during_the_restore_is_reported_after_restart_with_live_data_untouched(
        office: Office, mariadb: MariaDB) -> None:
    """The bot is a `pulih run` process killed (SIGKILL) in the middle of the import; the
    bot started again tells the team group, and the retry button restores."""
    fake, member = office.fake, office.people["tim_exec"]
    program, env = clocked({k: v for k, v in os.environ.items() if not k.startswith("PULIH_")})
    command = [*program, "--env-file", str(office.env_file), "run"]

    async def before_the_crash() -> None:
        log = (office.env_file.parent / "pulih-run.log").open("w")
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        lock = None
        try:
            await asyncio.to_thread(fake.wait_for, lambda: bool(fake.commands), 60)
            await file_and_assign(office)
            await check_and_confirm(office)
            lock = ReadLock(mariadb)
            await member.says("simpeg", TEAM_CHAT)
            await asyncio.to_thread(fake.wait_for, lambda: phase_started(office, "apply"), 60)
            progress = next(m for m in fake.chat(TEAM_CHAT).messages.values()
                            if "Dijalankan oleh" in text_of(m))
            assert "Batal" in str(progress.get("reply_markup"))
        finally:
            process.kill()
            process.wait()
            log.close()
            if lock is not None:
                lock.release()

    async def after_restart() -> None:
        async with running_bot(office.container):
            notice = await shown(fake, TEAM_CHAT, "bot berhenti di tengah jalan")
            assert "data live tidak disentuh" in text_of(notice).lower()
            [dead] = [i for i, m in fake.chat(TEAM_CHAT).messages.items()
                      if "Dijalankan oleh" in text_of(m)]  # the run's progress message:
            await asyncio.to_thread(fake.wait_for, lambda: not fake.chat(  # no Batal left
                TEAM_CHAT).messages[dead].get("reply_markup"), 10)
            assert snapshot(mariadb) == office.states["damaged"]
            await member.taps("Ulangi (cek titik yang sama)", TEAM_CHAT)
            await asyncio.to_thread(fake.wait_for, lambda: sum(
                "LULUS." in t for t in fake.chat(TEAM_CHAT).texts()) == 2, 60)
            await member.taps("Restore titik ini", TEAM_CHAT)
            await shown(fake, TEAM_CHAT, "Balas pesan ini dengan nama sistem")
            await member.says("simpeg", TEAM_CHAT)
            await shown(fake, TEAM_CHAT, "BERHASIL", timeout=120)

    asyncio.run(before_the_crash())
    assert [r.status for r in runs(office)] == ["running"]  # as the crash left it
    asyncio.run(after_restart())
    assert [r.status for r in runs(office)] == ["interrupted", "succeeded"]
    assert snapshot(mariadb) == office.states["good"]
    assert state_of(office) == "report_submitted"


def test_a_restart_while_the_system_name_is_awaited_still_restores(
        office: Office, mariadb: MariaDB) -> None:
    """The bot stops after asking for the system's name and starts again: the member's
    typed name still confirms the restore (the question was kept in the database)."""
    fake, member = office.fake, office.people["tim_exec"]

    async def before() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            await check_and_confirm(office)

    async def after() -> None:
        async with running_bot(office.container):
            await member.says("simpeg", TEAM_CHAT)
            await shown(fake, TEAM_CHAT, "BERHASIL", timeout=120)

    asyncio.run(before())
    asyncio.run(after())
    assert snapshot(mariadb) == office.states["good"]
    assert [r.status for r in runs(office)] == ["succeeded"]
    assert state_of(office) == "report_submitted"
