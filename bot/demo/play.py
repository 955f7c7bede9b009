"""`pulih demo`: the SOP in chat on this machine, for a newcomer without a Telegram token.

The real bot (the same Application `pulih run` starts) runs against the local Bot API
stand-in; the people of the example inventory are played by a script; SQLite holds the
records. Where OpenSSH and MariaDB are installed (root or not), steps 4-7 run for real
too: the backup server and SIMPEG's VPS are two sshd on 127.0.0.1 and SIMPEG's damaged
database comes back from its backup. It prints each conversation as that person sees
it, and leaves the documents and the activity record in the demo folder."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select

from bot.bootstrap import Container, bootstrap
from bot.db.migrate import upgrade
from bot.db.models import DocumentJob, OutboxMessage, Person, RoleAssignment, System
from bot.demo.lab.simpeg import snapshot
from bot.demo.office_lab import Lab, lab, unavailable
from bot.demo.standin import TOKEN, FakeTelegram
from bot.inventory.loader import load_inventory
from bot.services.audit.chain import export_csv
from bot.services.office.inventory_sync import sync_inventory
from bot.services.office.setup import prepare
from bot.services.people.linking import invite
from bot.settings import load_settings
from handlers.app import build_application, polling
from handlers.runtime import ChatRuntime
from letters.timefmt import utcnow

MARKER = ".pulih-demo"
WAIT = 60.0  # seconds for one answer of the bot; generous for a loaded machine
RESTORE_WAIT = 300.0


@dataclass
class Screen:
    """A chat the script watches: a person's private chat (whose id is their user id) or
    the team group (no name, no NIP)."""

    label: str
    name: str
    nip: str
    chat_id: int

    @property
    def title(self) -> str:
        return f"{self.label} ({self.name})" if self.name else self.label


def _screen_text(message: dict[str, Any]) -> str:
    lines = []
    if "document" in message:
        lines.append(f"[berkas PDF: {message['document']['file_name']}]")
    lines.append(str(message.get("text") or message.get("caption") or ""))
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        lines.append("  " + "  ".join(f"[{b['text']}]" for b in row))
    return "\n".join(lines)


@dataclass
class Script:
    standin: FakeTelegram
    out: TextIO
    team: Screen
    players: dict[str, Screen] = field(default_factory=dict)
    printed: dict[tuple[int, int], str] = field(default_factory=dict)
    log: list[tuple[int, str]] = field(default_factory=list)  # (chat, text) as printed

    def show(self) -> None:
        """Print what is new or changed in every chat, as its owner sees it."""
        for screen in (*self.players.values(), self.team):
            for message in list(self.standin.chat(screen.chat_id).messages.values()):
                key = (screen.chat_id, message["message_id"])
                text = _screen_text(message)
                if self.printed.get(key) == text:
                    continue
                changed = " (pesan diperbarui)" if key in self.printed else ""
                self.printed[key] = text
                self.log.append((screen.chat_id, text))
                print(f"\n--- layar {screen.title}{changed} ---\n{text}", file=self.out,
                      flush=True)

    def narrate(self, text: str) -> None:
        print(f"\n=== {text} ===", file=self.out, flush=True)

    async def until(self, screen: Screen, words: str, since: int, timeout: float = WAIT,
                    unless: str | None = None) -> str:
        """The first message shown in `screen` after log entry `since` that contains
        `words`, once there is one, printing the chats meanwhile (a restore's progress
        shows as it changes)."""
        deadline = time.monotonic() + timeout
        while True:
            self.show()
            for chat_id, text in self.log[since:]:
                if chat_id != screen.chat_id:
                    continue
                if words in text:
                    return text
                if unless and unless in text:
                    raise RuntimeError(f"{screen.title}: {text.splitlines()[0]}")
            if time.monotonic() > deadline:
                seen = [text for chat_id, text in self.log if chat_id == screen.chat_id]
                last = seen[-1].splitlines()[0] if seen else "(belum ada pesan)"
                raise RuntimeError(f"{screen.title} tidak menerima {words!r} dalam "
                                   f"{timeout:.0f} detik; pesan terakhirnya: {last!r}")
            await asyncio.sleep(0.2)

    async def answer(self, query: str, what: str) -> str | None:
        """The bot's answer to a tap (a short notice, or none), once it has answered."""
        deadline = time.monotonic() + WAIT
        while query not in self.standin.answered:
            if time.monotonic() > deadline:
                raise RuntimeError(f"bot tidak memberi {what} dalam {WAIT:.0f} detik")
            await asyncio.sleep(0.1)
        text = self.standin.answered[query].get("text")
        return str(text) if text else None

    async def says(self, who: str, text: str, expect: tuple[Screen, str] | None = None,
                   where: Screen | None = None, timeout: float = WAIT,
                   unless: str | None = None) -> int:
        """`who` types `text` in their chat (or `where`); waits for `expect` (by default
        any reply in that chat). Returns the log position before the message."""
        player = self.players[who]
        chat = where or player
        self.show()
        mark = len(self.log)
        place = f" di {chat.title}" if where else ""
        print(f"\n>>> {player.title} menulis{place}: {text}", file=self.out)
        self.standin.user_says(player.chat_id, text, chat_id=chat.chat_id,
                               first_name=player.name,
                               chat_type="supergroup" if chat.chat_id < 0 else "private")
        screen, words = expect or (chat, "")
        await self.until(screen, words, mark, timeout, unless)
        return mark

    async def taps(self, who: str, label: str, expect: tuple[Screen, str],
                   where: Screen | None = None) -> int:
        """`who` taps the newest button whose label contains `label` in their chat (or
        `where`), once there is one; waits for the bot's answer and for `expect`."""
        player = self.players[who]
        chat = where or player
        found = await self.button(chat, label)
        mark = len(self.log)
        message_id, button = found
        place = f" di {chat.title}" if where else ""
        print(f"\n>>> {player.title} menekan [{button['text']}]{place}", file=self.out)
        query = self.standin.user_taps(player.chat_id, chat.chat_id, message_id,
                                       button["callback_data"], first_name=player.name)
        answer = await self.answer(query, f"jawaban atas [{button['text']}]")
        if answer:
            print(f"(jawaban bot: {answer})", file=self.out)
        await self.until(*expect, since=mark)
        return mark

    async def button(self, chat: Screen, label: str) -> tuple[int, dict[str, Any]]:
        """The newest button in `chat` whose label contains `label`, and its message,
        once the bot has shown one."""
        deadline = time.monotonic() + WAIT
        while True:
            self.show()
            for message in reversed(list(self.standin.chat(chat.chat_id).messages.values())):
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                    for button in row:
                        if label in button["text"]:
                            return int(message["message_id"]), button
            if time.monotonic() > deadline:
                raise RuntimeError(f"tombol {label!r} tidak muncul di layar {chat.title} "
                                   f"dalam {WAIT:.0f} detik")
            await asyncio.sleep(0.2)


def _folder(folder: Path) -> None:
    """A fresh demo folder; only one this command made earlier is ever emptied."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise SystemExit(f"{folder} sudah berisi berkas lain; pilih folder lain dengan "
                             "--dir.")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("Folder ini dibuat oleh `pulih demo`.\n", encoding="utf-8")


def _people(container: Container) -> dict[str, tuple[str, str]]:
    """NIP and name of a requester (of an agency with a system), the Kepala Dinas, a
    Kepala Bidang and a team member."""
    picked: dict[str, tuple[str, str]] = {}
    with container.sessions() as session:
        for role in ("kadis", "kabid", "tim", "opd"):
            query = select(Person).join(RoleAssignment).where(RoleAssignment.role == role,
                                                              Person.active.is_(True))
            if role == "opd":
                query = query.where(Person.agency_id.in_(select(System.agency_id)))
            person = session.execute(query.order_by(Person.id)).scalars().first()
            if person is None:
                raise SystemExit(f"Inventaris contoh tidak memuat pegawai berperan {role}.")
            picked[role] = (person.nip, person.name)
    return picked


async def _play(container: Container, standin: FakeTelegram, out: TextIO,
                full: bool) -> str:
    people = _people(container)
    labels = {"opd": "Pemohon OPD", "kadis": "Kepala Dinas", "kabid": "Kepala Bidang",
              "tim": "Tim Teknis"}
    # The scripted demo is one request's story; the morning backup watch is not part of it.
    application = build_application(container, read_timeout=10, sweep_interval=30,
                                    watch_first=None)
    chat = application.bot_data.runtime
    assert isinstance(chat, ChatRuntime)
    s = Script(standin, out, Screen("Grup Tim Teknis", "", "", chat.team_chat_id))
    for index, (role, (nip, name)) in enumerate(people.items()):
        s.players[role] = Screen(labels[role], name, nip, 810_000 + index)
    opd, kadis, kabid, team = s.players["opd"], s.players["kadis"], s.players["kabid"], s.team
    async with polling(application) as errors:
        s.narrate("Menghubungkan akun: admin membuat tautan, tiap orang membukanya")
        for role, player in s.players.items():
            code = await asyncio.to_thread(_invite_code, container, player.nip)
            await s.says(role, f"/start {code}")
        s.narrate("Langkah 1 - pemohon mengajukan permohonan dengan /mohon")
        await s.says("opd", "/mohon", (opd, "Sistem mana"))
        systems = next((m for m in reversed(standin.chat(opd.chat_id).messages.values())
                        if "Sistem mana" in str(m.get("text")) and m.get("reply_markup")), None)
        if systems is None:
            raise RuntimeError("pemohon tidak melihat pilihan sistem")
        first = systems["reply_markup"]["inline_keyboard"][0][0]["text"]
        await s.taps("opd", first, (opd, "Apa yang perlu dipulihkan"))
        await s.taps("opd", "Database", (opd, "Backup terakhir"))
        await s.taps("opd", "Backup terakhir", (opd, "Tuliskan alasan"))
        await s.says("opd", "Setelah pembaruan aplikasi pagi ini, tabel pegawai rusak dan "
                            "aplikasi tidak dapat dibuka.", (opd, "dampaknya"))
        await s.says("opd", "Layanan kepegawaian berhenti untuk seluruh sekolah.",
                     (opd, "narahubung"))
        await s.says("opd", f"{people['opd'][1]}, 0812-0000-0000", (opd, "Surat permohonan"))
        await s.taps("opd", "Buatkan surat permohonan", (opd, "Periksa permohonan Anda"))
        mark = await s.taps("opd", "Kirim", (kadis, "LANGKAH 2"))
        # The ticket reaches the requester after the request letter is made, which may
        # come after the Kepala Dinas's card.
        filed = await s.until(opd, "Nomor tiket: ", mark)
        ticket = filed.split("Nomor tiket: ", 1)[1].split()[0]
        s.narrate("Langkah 2 - Kepala Dinas mendisposisikan dengan satu ketukan")
        await s.taps("kadis", people["kabid"][1], (kabid, "LANGKAH 3"))
        s.narrate("Langkah 3 - Kepala Bidang meneruskan ke Tim Teknis")
        await s.taps("kabid", "Ke Tim Teknis (grup)", (team, "[berkas PDF: disposisi"))
        if full:
            s.narrate("Langkah 4 - Tim Teknis memeriksa backup di server backup (lewat SSH)")
            await s.taps("tim", "Cek backup", (team, "Pilih satu untuk diperiksa"), team)
            await s.taps("tim", "WITA", (team, "Hasil pemeriksaan backup"), team)
            s.narrate("Langkah 5 - restore ke VPS SIMPEG; nama sistem diketik sebagai "
                      "konfirmasi, kemajuan tampil langsung")
            await s.taps("tim", "Restore titik ini", (team, "Balas pesan ini"), team)
            mark = await s.says("tim", "simpeg", (team, "BERHASIL"), team, RESTORE_WAIT,
                                unless="GAGAL")
            s.narrate("Langkah 6 - laporan restore dibuat otomatis dari catatan; Kepala "
                      "Bidang memeriksa konsepnya dan mengesahkan")
            await s.until(kabid, "[berkas PDF: laporan", mark)
            mark = await s.taps("kabid", "Sahkan", (opd, "LANGKAH 8"))
            s.narrate("Langkah 7 - surat pemberitahuan bernomor dan laporan dikirim ke OPD "
                      "(tembusan ke grup Tim Teknis)")
            await s.until(opd, "[berkas PDF: surat_pemberitahuan", mark)
            await s.until(team, "[berkas PDF: surat_pemberitahuan", mark)
            s.narrate("Langkah 8 - OPD memeriksa sistemnya dan menyatakan diterima")
            await s.taps("opd", "Diterima / Sesuai", (opd, "Diterima dan sesuai oleh"))
        await settled(container)
        s.show()
        s.narrate("Di mana permohonan sekarang: /status")
        await s.says("opd", f"/status {ticket}", (opd, "Waktu per langkah"))
    if errors:
        raise RuntimeError(f"bot gagal menangani pesan: {errors[0]!r}")
    return ticket


async def settled(container: Container, timeout: float = WAIT) -> None:
    """Until every message and document the decisions so far called for has gone out."""
    deadline = time.monotonic() + timeout
    while await asyncio.to_thread(_pending, container):
        if time.monotonic() > deadline:
            raise RuntimeError(f"pesan dan dokumen belum terkirim semua dalam {timeout:.0f} "
                               "detik")
        await asyncio.sleep(0.2)


def _pending(container: Container) -> int:
    with container.sessions() as session:
        return sum(session.execute(select(func.count()).select_from(table).where(
            table.status == "pending")).scalar_one() for table in (OutboxMessage, DocumentJob))


def _invite_code(container: Container, nip: str) -> str:
    with container.unit_of_work() as session:
        return invite(session, nip, container.clock(), "Admin (demo)")[1]


def run_demo(folder: Path, example: Path, out: TextIO,
             clock: Callable[[], datetime] = utcnow) -> int:
    _folder(folder)
    data = folder / "data"
    inventory = folder / "inventory.toml"
    prepare(data, inventory, example)
    why_not = unavailable()
    # Each SSH connection logs two INFO lines; the transcript is what the newcomer reads.
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    standin = FakeTelegram()
    standin.start()
    try:
        env = {"PULIH_DATABASE_URL": f"sqlite:///{data / 'pulih.sqlite3'}",
               "PULIH_DATA_DIR": str(data), "PULIH_INVENTORY": str(inventory),
               "PULIH_BOT_TOKEN": TOKEN, "PULIH_BOT_API_URL": f"{standin.url}/bot",
               "PULIH_BOT_FILE_URL": f"{standin.url}/file/bot",
               "PULIH_ENV_FILE": str(folder / "tidak-ada.env")}
        container = bootstrap(load_settings(environ=env), clock)
        zone = container.settings.timezone
        try:
            upgrade(container.engine)
            with (nullcontext() if why_not else
                  lab(inventory, data / "ssh" / "id_ed25519",
                      data / "ssh" / "known_hosts", container.clock(), zone)) as lab_:
                with container.unit_of_work() as session:
                    sync_inventory(session, load_inventory(container.settings.inventory_path),
                                   container.clock())
                print("Pulih demo: bot sungguhan, server Bot API lokal (127.0.0.1), SQLite di "
                      f"{data}.", file=out)
                if lab_ is not None:
                    print("Server backup dan VPS SIMPEG: dua sshd di 127.0.0.1; basis data "
                          f"SIMPEG di MariaDB lokal, dicadangkan pada titik {lab_.point} "
                          "lalu dirusak.", file=out)
                ticket = asyncio.run(_play(container, standin, out, lab_ is not None))
                restored = _restored(lab_, out) if lab_ is not None else True
            documents = folder / "dokumen"
            documents.mkdir(exist_ok=True)
            with container.sessions() as session, \
                    (folder / "jejak-audit.csv").open("w", encoding="utf-8", newline="") as f:
                export_csv(session, f, zone)
            for path in sorted((data / "documents").rglob("*.pdf")):
                shutil.copy2(path, documents / path.name)
        finally:
            container.close()
    finally:
        standin.stop()
    if why_not:
        print(f"\nDemo selesai. Permohonan {ticket} sampai di Tim Teknis (langkah 3).",
              file=out)
        print(f"Langkah 4-7 (cek backup, restore lewat SSH, laporan, pemberitahuan) "
              f"dilewati: {why_not}.", file=out)
    else:
        print(f"\nDemo selesai. Permohonan {ticket} menempuh delapan langkah SOP, dari surat "
              "permohonan sampai tanda terima OPD.", file=out)
    print(f"Dokumen: {documents} ({', '.join(p.name for p in sorted(documents.iterdir()))})",
          file=out)
    print(f"Jejak audit: {folder / 'jejak-audit.csv'}.", file=out)
    return 0 if restored else 1


def _restored(lab_: Lab, out: TextIO) -> bool:
    """Is SIMPEG's live database the backup again? Says so either way."""
    if snapshot(lab_.database) == lab_.states["good"]:
        print(f"\nDiperiksa langsung di MariaDB: basis data SIMPEG sama lagi dengan backup "
              f"{lab_.point}.", file=out)
        return True
    print("\nPERINGATAN: basis data SIMPEG tidak sama dengan backup.", file=out)
    return False
