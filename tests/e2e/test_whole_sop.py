"""All eight steps of the SOP in Telegram, with nothing faked but Telegram itself: the bot
on PostgreSQL, the backup server and the agency's VPS reached over real SSH, SIMPEG's
live database in a real MariaDB. The damaged database comes back, the four documents
reach the right chats and verify, the activity record verifies, the timeline is whole."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.chat.standin import FakeTelegram, fake_telegram
from bot.cli import main
from bot.db.models import Document, Request
from bot.services.timeline import timeline
from bot.settings import load_settings
from tests.support.mariadb import MariaDB
from tests.support.networked_office import networked_office
from tests.support.office import NIPS
from tests.support.people import Person, documents, shown, text_of
from tests.support.postgres import create_database
from tests.support.running_bot import TEAM_CHAT, bot_env, link, running_bot
from tests.support.simpeg import States, damaged_simpeg, drop_simpeg, snapshot
from tests.support.sshd import SshServer

IDS = {"opd_other": 7601, "kadis": 7602, "kabid_a": 7603, "tim_exec": 7604,
       "tim_other": 7605, "kabid_tim": 7606}


@dataclass
class Office:
    container: Container
    env_file: Path
    fake: FakeTelegram
    states: States
    people: dict[str, Person]


@pytest.fixture
def office(tmp_path: Path, backup_server: SshServer, target_server: SshServer,
           mariadb: MariaDB, pg_server: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Office]:
    root = tmp_path / "srv-backup"
    states = damaged_simpeg(mariadb, root)
    with fake_telegram() as fake:
        env_file = networked_office(
            tmp_path, backup_server, target_server, root, monkeypatch,
            system_extra=f'db_host = "{mariadb.socket}"\ndb_user = "root"',
            database_url=create_database(pg_server, f"t_{uuid.uuid4().hex[:12]}"),
            extra_env=bot_env(fake))
        container = bootstrap(load_settings(environ={}, env_file=env_file))
        people = {}
        for key, telegram_id in IDS.items():
            link(container, NIPS[key], telegram_id)
            people[key] = Person(fake, telegram_id, key)
        yield Office(container, env_file, fake, states, people)
        container.close()
    drop_simpeg(mariadb)


def pulih(office: Office, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--env-file", str(office.env_file), *args], out=out, err=out)
    return code, out.getvalue()


async def file_and_assign(office: Office) -> None:
    """Steps 1-3 as people do them: /mohon, one tap by the Kepala Dinas, one by the
    Kepala Bidang."""
    fake, p = office.fake, office.people
    opd = p["opd_other"]
    await opd.says("/mohon")
    await shown(fake, opd.user_id, "Sistem mana")
    await opd.taps("SIMPEG")
    await shown(fake, opd.user_id, "Apa yang perlu dipulihkan")
    await opd.taps("Database")
    await shown(fake, opd.user_id, "Backup terakhir")
    await opd.taps("Backup terakhir")
    await shown(fake, opd.user_id, "Tuliskan alasan")
    await opd.says("Tabel pegawai rusak setelah pembaruan aplikasi.")
    await shown(fake, opd.user_id, "dampaknya")
    await opd.says("Layanan kepegawaian berhenti.")
    await shown(fake, opd.user_id, "narahubung")
    await opd.says("Nur Aisyah 0812-0000-2222")
    await shown(fake, opd.user_id, "Surat permohonan")
    await opd.taps("Buatkan surat permohonan")
    await shown(fake, opd.user_id, "Periksa permohonan Anda")
    await opd.taps("Kirim")
    await shown(fake, opd.user_id, "Nomor tiket")
    await shown(fake, p["kadis"].user_id, "LANGKAH 2")
    await p["kadis"].taps("Fajar Setiawan")
    await shown(fake, p["kabid_a"].user_id, "LANGKAH 3")
    await p["kabid_a"].taps("Ke Tim Teknis (grup)")
    await shown(fake, TEAM_CHAT, "PENUGASAN")


async def check_and_restore(office: Office, who: str = "tim_exec") -> dict[str, object]:
    """Steps 4-5 in the team group: points, check, Restore, the typed name; the result."""
    fake, member = office.fake, office.people[who]
    assert await member.taps("Cek backup", TEAM_CHAT) == "Mengambil daftar titik backup..."
    await shown(fake, TEAM_CHAT, "Pilih satu untuk diperiksa")
    await member.taps("WITA", TEAM_CHAT)
    await shown(fake, TEAM_CHAT, "Hasil pemeriksaan backup")
    await member.taps("Restore titik ini", TEAM_CHAT)
    await shown(fake, TEAM_CHAT, "Balas pesan ini dengan nama sistem")
    await member.says("simpeg", TEAM_CHAT)
    return await shown(fake, TEAM_CHAT, "BERHASIL", timeout=120)


def test_one_request_travels_all_eight_steps_in_telegram(office: Office,
                                                         mariadb: MariaDB) -> None:
    fake, p = office.fake, office.people
    opd, kabid = p["opd_other"], p["kabid_a"]

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            result = await check_and_restore(office)
            assert "Dijalankan oleh: Dimas Pratama" in text_of(result)
            assert "Data live: tabel dan baris: Sesuai: 1 tabel, 3 baris" in text_of(result)
            await shown(fake, kabid.user_id, "LANGKAH 6")
            await shown(fake, kabid.user_id, "KONSEP")  # the draft report, before deciding
            assert await kabid.taps("Sahkan") == "Tersimpan."
            await shown(fake, opd.user_id, "LANGKAH 8")
            await shown(fake, opd.user_id, "Surat Pemberitahuan")
            await shown(fake, opd.user_id, "Laporan Restore")
            assert await opd.taps("Diterima / Sesuai") == "Tersimpan."
            await shown(fake, TEAM_CHAT, "Surat Pemberitahuan")
            with office.container.sessions() as session:
                ticket = session.execute(select(Request.ticket)).scalar_one()
            await opd.says(f"/status {ticket}")
            await shown(fake, opd.user_id, "Waktu per langkah")

    asyncio.run(scenario())
    assert snapshot(mariadb) == office.states["good"]
    with office.container.sessions() as session:
        request = session.execute(select(Request)).scalar_one()
        assert request.state == "acknowledged"
        issued = {d.kind: d for d in session.execute(select(Document)).scalars()}
        steps = timeline(session, request, office.container.clock()).steps
    ticket = request.ticket
    # Each document reached the chats it is for, as the file Pulih issued.
    expected = {p["kadis"].user_id: ["surat_permohonan"],
                TEAM_CHAT: ["disposisi", "laporan", "surat_pemberitahuan"],
                opd.user_id: ["laporan", "surat_pemberitahuan"]}
    for chat_id, kinds in expected.items():
        received = documents(fake, chat_id)
        for kind in kinds:
            content = received[f"{kind}-{ticket}.pdf"]
            assert Path(issued[kind].file_path).read_bytes() == content
    assert f"laporan-{ticket}-konsep.pdf" in documents(fake, kabid.user_id)
    for kind, document in issued.items():
        code, out = pulih(office, "letters", "verify", document.file_path)
        assert code == 0 and "ASLI" in out.upper(), (kind, out)
    code, out = pulih(office, "audit", "verify")
    assert code == 0, out
    # Every step's time against its Mutu Baku, in the record and on /status.
    assert [s.step.number for s in steps if s.spent is not None] == [2, 3, 4, 5, 6, 7, 8]
    assert not any(s.running for s in steps)
    status = text_of(opd.chat()[-1])
    assert "Selesai, diterima OPD" in status
    assert "1. Mengajukan surat permohonan restore: diajukan" in status
    for number in range(2, 9):
        assert f"\n{number}. " in status and f"\n{number}. " + "belum" not in status
