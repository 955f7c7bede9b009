"""Incident mode end to end through the Bot API stand-in: the Kepala Dinas declares an
incident naming 12 systems of 6 agencies; each agency hears of the request opened for it;
the Kepala Dinas and the Kepala Bidang each decide all of them on ONE card; the team
starts every check and restore from ONE board message, which is edited (never sent
again) to the end; 12 reports and 12 notification letters are issued, each system's data
is whole again, and closing the incident gives the Kepala Dinas its summary PDF."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.db.migrate import upgrade
from bot.db.models import Document, Request
from bot.demo.lab.fleet import Fleet, make_fleet
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.postgres import create_database
from bot.demo.lab.sshd import SshServer
from bot.demo.office_lab import latest_point
from bot.demo.standin import FakeTelegram, Fault, fake_telegram
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.settings import load_settings
from bot.workflow.sop import State
from tests.support.clock import NOW, WITA, running
from tests.support.pdf import pdf_text
from tests.support.people import Person, documents, shown, text_of, wait
from tests.support.running_bot import TEAM_CHAT, bot_env, link, running_bot

AGENCIES = ("BKPSDM", "DISDIKBUD", "DISDUKCAPIL", "DINKES", "BAPENDA", "DPMPTSP")
SYSTEMS = 12
KADIS, KABID, MEMBER = 9301, 9302, 9303
OPD = {agency: 9310 + n for n, agency in enumerate(AGENCIES)}
NIP = {"kadis": "197204151998031007", "kabid": "197809232005011004",
       "tim": "199003172015031002"}


def head() -> str:
    agencies = "\n".join(f'[[agencies]]\ncode = "{a}"\nname = "Instansi {a}"\n'
                         for a in AGENCIES)
    opd = "\n".join(f'[[people]]\nnip = "19900101201501{n:04d}"\nname = "Pegawai {a}"\n'
                    f'roles = ["opd"]\nagency = "{a}"\n' for n, a in enumerate(AGENCIES))
    return f'''[office]
code = "DISKOMINFO"
name = "Dinas Komunikasi dan Informatika"
address = ["Jalan Wolter Monginsidi No. 1", "Tenggarong"]

[team]
group_chat_id = {TEAM_CHAT}

{agencies}
[[people]]
nip = "{NIP['kadis']}"
name = "Ahmad Rizali"
roles = ["kadis"]
agency = "DISKOMINFO"

[[people]]
nip = "{NIP['kabid']}"
name = "Fajar Setiawan"
roles = ["kabid"]
agency = "DISKOMINFO"

[[people]]
nip = "{NIP['tim']}"
name = "Dimas Pratama"
roles = ["tim"]
agency = "DISKOMINFO"

{opd}'''


@pytest.fixture
def lab(tmp_path: Path, backup_server: SshServer, target_server: SshServer, mariadb: MariaDB,
        pg_server: str) -> Iterator[tuple[Container, Fleet, FakeTelegram]]:
    fleet = make_fleet(tmp_path / "fleet", {"backup-a": backup_server}, target_server,
                       mariadb, pg_server, list(AGENCIES), SYSTEMS, latest_point(NOW, WITA),
                       rows=300)
    fleet.damage()
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(fleet.inventory_text(head(), max_restores=2))
    with fake_telegram() as fake:
        settings = load_settings(environ={
            "PULIH_DATABASE_URL": create_database(pg_server, f"t_{uuid.uuid4().hex[:12]}"),
            "PULIH_INVENTORY": str(inventory), "PULIH_DATA_DIR": str(tmp_path / "data"),
            "PULIH_RESTORES_AT_ONCE": "4", **bot_env(fake),
            "PULIH_ENV_FILE": str(tmp_path / "absent.env")})
        container = bootstrap(settings, running())
        upgrade(container.engine)
        with container.unit_of_work() as session:
            sync_inventory(session, load_inventory(inventory), NOW)
        for nip, telegram_id in ((NIP["kadis"], KADIS), (NIP["kabid"], KABID),
                                 (NIP["tim"], MEMBER)):
            link(container, nip, telegram_id)
        for n, agency in enumerate(AGENCIES):
            link(container, f"19900101201501{n:04d}", OPD[agency])
        yield container, fleet, fake
        container.close()


def states(c: Container) -> dict[str, str]:
    with c.sessions() as session:
        return {r.system.code: r.state for r in session.execute(select(Request)).scalars()}


def issued(c: Container, kind: str) -> set[int]:
    with c.sessions() as session:
        return {d.request_id or 0 for d in session.execute(
            select(Document).where(Document.kind == kind)).scalars()}


def messages_with(fake: FakeTelegram, chat_id: int, words: str) -> list[str]:
    return [text_of(m) for m in fake.chat(chat_id).messages.values() if words in text_of(m)]


@pytest.mark.slow  # twelve systems restored through the chat: about 40 s
def test_an_incident_of_12_systems_is_decided_on_one_card_each_and_followed_on_one_board(
        lab: tuple[Container, Fleet, FakeTelegram], tmp_path: Path) -> None:
    container, fleet, fake = lab
    code = asyncio.run(_scenario(container, fleet, fake))
    _check(container, fleet, fake, code, tmp_path)


async def _scenario(container: Container, fleet: Fleet, fake: FakeTelegram) -> str:
    kadis, kabid = Person(fake, KADIS, "Ahmad"), Person(fake, KABID, "Fajar")
    member = Person(fake, MEMBER, "Dimas")
    codes = ", ".join(s.code for s in fleet.systems)
    async with running_bot(container, delivery_interval=0.2):
        await kadis.says(f"/insiden buka Gangguan pusat data DC1: {codes}")
        await shown(fake, KADIS, "dibuka")
        card = await shown(fake, KADIS, "LANGKAH 2 - Disposisi Kepala Dinas (12 sistem)")
        assert all(s.code in text_of(card) for s in fleet.systems)
        for chat in OPD.values():  # every agency hears of its own requests
            await shown(fake, chat, "atas nama instansi Anda")
        # An agency adds what the team should know; the team group reads it.
        agency = Person(fake, OPD["BKPSDM"], "Pegawai BKPSDM")
        assert "keterangan" in (await agency.taps("Tambah keterangan")).lower()
        await agency.says("Tabel gaji paling penting; hubungi 0812-0000-1111")
        await shown(fake, OPD["BKPSDM"], "Keterangan tersimpan")
        await shown(fake, TEAM_CHAT, "Tabel gaji paling penting")
        assert "Disposisi semua ke Fajar Setiawan" in await _labels(fake, KADIS)
        await kadis.taps("Disposisi semua ke Fajar Setiawan")
        await wait(fake, lambda: set(states(container).values()) == {
            State.DISPOSED_TO_KABID.value}, what="all 12 disposed to the Kepala Bidang")
        await shown(fake, TEAM_CHAT, "menunggu disposisi Kepala Bidang")
        deleted = _delete(fake, TEAM_CHAT, "PAPAN INSIDEN")  # someone deletes the board
        await shown(fake, KABID, "LANGKAH 3 - menunggu disposisi ke Tim Teknis (12)")
        await kabid.taps("Tugaskan semua ke Tim Teknis")
        await wait(fake, lambda: set(states(container).values()) == {
            State.ASSIGNED_TO_TEAM.value}, what="all 12 assigned to the team")
        board = await shown(fake, TEAM_CHAT, "12 sistem siap")  # the board, sent again
        assert board["message_id"] != deleted
        await member.taps("Periksa & pulihkan semua", TEAM_CHAT)
        prompt = await shown(fake, TEAM_CHAT, "ketik kode insiden")
        code = text_of(prompt).split("kode insiden ", 1)[1].split(" ", 1)[0]
        # Telegram slows the bot down once mid-way: the board waits, then catches up.
        fake.fail_next("editMessageText", Fault(429, "Too Many Requests: retry after 1", 1))
        await member.says(code, TEAM_CHAT)
        last = fleet.systems[-1].code  # checked last: still in line when "Batal" is tapped
        await wait(fake, lambda: f"Batal {last}" in _labels_now(fake, TEAM_CHAT),
                   what=f"Batal {last} on the board")
        assert "Pembatalan diminta" in await member.taps(f"Batal {last}", TEAM_CHAT)
        settled = {State.REPORT_SUBMITTED.value, State.BACKUP_CHECKED.value}
        await wait(fake, lambda: set(states(container).values()) <= settled, timeout=600,
                   what=f"every restore done or cancelled: {states(container)}")
        if states(container)[last] == State.BACKUP_CHECKED.value:  # cancelled: again
            await wait(fake, lambda: "Periksa & pulihkan semua" in _labels_now(
                fake, TEAM_CHAT), what="the button for what is left")
            await member.taps("Periksa & pulihkan semua", TEAM_CHAT)
            await shown(fake, TEAM_CHAT, "memulihkan 1 sistem")
            await member.says(code, TEAM_CHAT)
        await wait(fake, lambda: set(states(container).values()) == {
            State.REPORT_SUBMITTED.value}, timeout=600,
            what=f"every restore done and reported: {states(container)}")
        await shown(fake, KABID, "laporan menunggu pengesahan (12)")
        await kabid.taps("Sahkan semua laporan")
        await wait(fake, lambda: set(states(container).values()) == {State.NOTIFIED.value},
                   what="all 12 ratified and the agencies notified")
        request_ids = set(_ids(container))
        await wait(fake, lambda: issued(container, "laporan") >= request_ids
                   and issued(container, "surat_pemberitahuan") >= request_ids, timeout=300,
                   what="12 reports and 12 notification letters issued")
        await wait(fake, lambda: "Selesai 12, gagal 0" in _board(fake), what="the final board")
        assert fake.faults_left() == 0  # the slow-down was met, and outlived
        await kadis.says(f"/insiden tutup {code}")
        await wait(fake, lambda: any(name.startswith("ringkasan_insiden")
                                     for name in documents(fake, KADIS)),
                   what="the summary PDF at the Kepala Dinas")
    return code


def _check(container: Container, fleet: Fleet, fake: FakeTelegram, code: str,
           tmp_path: Path) -> None:
    assert fleet.not_whole() == []
    # ONE card each for the officials, ONE board for the team: edited, not sent again
    # (unless deleted).
    assert len(messages_with(fake, KADIS, "LANGKAH 2 - Disposisi Kepala Dinas")) == 1
    assert len(messages_with(fake, KABID, "INSIDEN " + code)) == 1
    assert len(messages_with(fake, TEAM_CHAT, "PAPAN INSIDEN")) == 1
    # Sent twice in all: once, and once more after someone deleted it.
    assert len([m for m in fake.sent("sendMessage")
                if "PAPAN INSIDEN" in str(m.get("text"))]) == 2
    assert not messages_with(fake, TEAM_CHAT, "RESTORE PLH-")  # no message per restore
    board_id = next(m["message_id"] for m in fake.chat(TEAM_CHAT).messages.values()
                    if "PAPAN INSIDEN" in text_of(m))
    edits = [e for e in fake.sent("editMessageText")
             if int(e["chat_id"]) == TEAM_CHAT and int(e["message_id"]) == board_id]
    assert len(edits) >= 3
    # While restores were left, the board said when all should be done.
    assert any("Perkiraan selesai semua restore:" in str(e.get("text")) for e in edits)
    assert any("[proses]" in str(e.get("text")) or "[antre]" in str(e.get("text"))
               for e in edits)
    for agency, chat in OPD.items():  # each agency got its systems' letters
        letters = [n for n in documents(fake, chat) if n.startswith("surat_pemberitahuan")]
        assert len(letters) == 2, agency
    summary = next(data for name, data in documents(fake, KADIS).items()
                   if name.startswith("ringkasan_insiden"))
    words = pdf_text(summary, tmp_path, layout=True)
    assert "RINGKASAN PENANGANAN INSIDEN" in words and code in words
    assert all(s.code in words for s in fleet.systems)
    assert re.search(r"Berhasil dipulihkan\s*:\s*12\b", words)
    assert re.search(r"Belum/tidak berhasil\s*:\s*0\b", words)


def _ids(c: Container) -> list[int]:
    with c.sessions() as session:
        return list(session.execute(select(Request.id)).scalars())


def _board(fake: FakeTelegram) -> str:
    return next((text_of(m) for m in fake.chat(TEAM_CHAT).messages.values()
                 if "PAPAN INSIDEN" in text_of(m)), "")


async def _labels(fake: FakeTelegram, chat_id: int) -> str:
    return _labels_now(fake, chat_id)


def _labels_now(fake: FakeTelegram, chat_id: int) -> str:
    return " | ".join(b["text"] for m in list(fake.chat(chat_id).messages.values())
                      for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
                      for b in row)


def _delete(fake: FakeTelegram, chat_id: int, words: str) -> int:
    """A person deletes the bot's message that says `words` (as Telegram lets them)."""
    messages = fake.chat(chat_id).messages
    found = next(i for i, m in list(messages.items()) if words in text_of(m))
    del messages[found]
    return found
