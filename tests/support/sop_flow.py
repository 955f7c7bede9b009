"""The office of the whole-SOP tests: the bot on PostgreSQL, the backup server and SIMPEG's
VPS over real SSH, SIMPEG's live data in a real MariaDB; and the people's steps 1-5 as
they do them in Telegram."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.bootstrap import Container, bootstrap
from bot.cli import main
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.simpeg import States
from bot.demo.lab.sshd import SshServer
from bot.demo.standin import FakeTelegram
from bot.settings import load_settings
from tests.support.clock import running
from tests.support.networked_office import networked_office
from tests.support.office import NIPS
from tests.support.people import Person, shown, text_of
from tests.support.running_bot import TEAM_CHAT, bot_env, link

IDS = {"opd_other": 7601, "kadis": 7602, "kabid_a": 7603, "tim_exec": 7604,
       "tim_other": 7605, "kabid_tim": 7606}


@dataclass
class Office:
    container: Container
    env_file: Path
    fake: FakeTelegram
    states: States
    people: dict[str, Person]
    backup_root: Path


def open_office(folder: Path, backup: SshServer, target: SshServer, mariadb: MariaDB,
                fake: FakeTelegram, backup_root: Path, states: States,
                database_url: str | None = None,
                extra_env: dict[str, str] | None = None) -> Office:
    """The office wired to the servers, with its people linked to Telegram accounts
    (SQLite unless `database_url`); the caller closes its container."""
    env_file = networked_office(
        folder, backup, target, backup_root,
        system_extra=f'db_host = "{mariadb.socket}"\ndb_user = "root"',
        database_url=database_url, extra_env={**bot_env(fake), **(extra_env or {})})
    container = bootstrap(load_settings(environ={}, env_file=env_file), running())
    people = {}
    for key, telegram_id in IDS.items():
        link(container, NIPS[key], telegram_id)
        people[key] = Person(fake, telegram_id, key)
    return Office(container, env_file, fake, states, people, backup_root)


def pulih(office: Office, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--env-file", str(office.env_file), *args], out=out, err=out, clock=running())
    return code, out.getvalue()


# /mohon as the requester fills it in: what they do, and what the bot shows next.
FORM = [("says", "/mohon", "Sistem mana"), ("taps", "SIMPEG", "Apa yang perlu dipulihkan"),
        ("taps", "Database", "Backup terakhir"), ("taps", "Backup terakhir", "Tuliskan alasan"),
        ("says", "Tabel pegawai rusak setelah pembaruan aplikasi.", "dampaknya"),
        ("says", "Layanan kepegawaian berhenti.", "narahubung"),
        ("says", "Nur Aisyah 0812-0000-2222", "Surat permohonan"),
        ("taps", "Buatkan surat permohonan", "Periksa permohonan Anda"),
        ("taps", "Kirim", "Nomor tiket")]


async def file_and_assign(office: Office, kabid: str = "kabid_a",
                          kabid_name: str = "Fajar Setiawan") -> None:
    """Steps 1-3 as people do them: /mohon, one tap by the Kepala Dinas, one by the
    Kepala Bidang."""
    fake, p = office.fake, office.people
    opd = p["opd_other"]
    for does, what, then in FORM:
        await (opd.says(what) if does == "says" else opd.taps(what))
        await shown(fake, opd.user_id, then)
    await shown(fake, p["kadis"].user_id, "LANGKAH 2")
    await p["kadis"].taps(kabid_name)
    await shown(fake, p[kabid].user_id, "LANGKAH 3")
    await p[kabid].taps("Ke Tim Teknis (grup)")
    await shown(fake, TEAM_CHAT, "PENUGASAN")


async def check_and_confirm(office: Office, who: str = "tim_exec") -> None:
    """Step 4 in the team group, and step 5 up to the typed name: points, check, Restore."""
    fake, member = office.fake, office.people[who]
    assert await member.taps("Cek backup", TEAM_CHAT) == "Mengambil daftar titik backup..."
    await shown(fake, TEAM_CHAT, "Pilih satu untuk diperiksa")
    await member.taps("WITA", TEAM_CHAT)
    card = await shown(fake, TEAM_CHAT, "Hasil pemeriksaan backup")
    assert "bukan bahwa isinya aman" in text_of(card)
    # The team knows before it taps Restore that the file will flow into the shadow.
    assert "dialirkan langsung ke salinan sementara (tanpa salinan staging)" in text_of(card)
    # The check ran in the background behind a progress message, which the result
    # replaced (no message is left saying it is still checking).
    progress = [p for p in fake.sent("sendMessage") if "Memeriksa backup untuk" in
                str(p.get("text"))]
    assert progress and all("Memeriksa backup untuk" not in text_of(m)
                            for m in fake.chat(TEAM_CHAT).messages.values())
    await member.taps("Restore titik ini", TEAM_CHAT)
    await shown(fake, TEAM_CHAT, "Balas pesan ini dengan nama sistem")


async def check_and_restore(office: Office, who: str = "tim_exec",
                            ends: str = "BERHASIL") -> dict[str, Any]:
    """Steps 4-5 in the team group, the system's name typed; the run's final message."""
    await check_and_confirm(office, who)
    await office.people[who].says("simpeg", TEAM_CHAT)
    return await shown(office.fake, TEAM_CHAT, ends, timeout=120)


