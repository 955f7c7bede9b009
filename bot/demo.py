"""`pulih demo`: the SOP in chat on this machine, for a newcomer without a Telegram token.

The real bot (the same Application `pulih run` starts) runs against the local Bot API
stand-in; the people of the example inventory are played by a script; SQLite holds the
records. It prints each conversation as that person sees it and leaves the documents
and the activity record in the demo folder. Steps 4-7 (backup check, restore over SSH,
report, notification) join the demo as they join the bot."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.chat.app import ChatRuntime, build_application, polling
from bot.chat.standin import TOKEN, FakeTelegram
from bot.db.migrate import upgrade
from bot.db.models import Person, RoleAssignment, System
from bot.inventory.loader import load_inventory
from bot.services.audit import export_csv
from bot.services.inventory_sync import sync_inventory
from bot.services.linking import invite
from bot.services.setup import prepare
from bot.settings import load_settings

MARKER = ".pulih-demo"
WAIT = 60.0  # seconds for one answer of the bot; generous for a loaded machine


@dataclass
class Player:
    """A chat the script watches: a person of the inventory (their private chat, whose id
    is their user id) or the team group (no name, no NIP)."""

    label: str
    name: str
    nip: str
    user_id: int
    seen: int = 0

    @property
    def title(self) -> str:
        return f"{self.label} ({self.name})" if self.name else self.label


@dataclass
class Script:
    standin: FakeTelegram
    out: TextIO
    team: Player
    players: dict[str, Player] = field(default_factory=dict)

    def show(self) -> None:
        """Print what is new in every chat, as its owner sees it."""
        for screen in (*self.players.values(), self.team):
            messages = list(self.standin.chat(screen.user_id).messages.values())
            for message in messages[screen.seen:]:
                print(f"\n--- layar {screen.title} ---", file=self.out)
                if "document" in message:
                    print(f"[berkas PDF: {message['document']['file_name']}]", file=self.out)
                print(message.get("text") or message.get("caption") or "", file=self.out)
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                    print("  " + "  ".join(f"[{b['text']}]" for b in row), file=self.out)
            screen.seen = len(messages)

    def narrate(self, text: str) -> None:
        print(f"\n=== {text} ===", file=self.out, flush=True)

    async def says(self, who: str, text: str, replies: int = 1) -> None:
        player = self.players[who]
        before = len(self.standin.chat(player.user_id).messages)
        print(f"\n>>> {player.title} menulis: {text}", file=self.out)
        self.standin.user_says(player.user_id, text, first_name=player.name)
        await self.wait(lambda: len(self.standin.chat(player.user_id).messages)
                         >= before + replies)
        self.show()

    async def taps(self, who: str, label: str, then: Any = None) -> None:
        player = self.players[who]
        for message in reversed(list(self.standin.chat(player.user_id).messages.values())):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        print(f"\n>>> {player.title} menekan [{button['text']}]",
                              file=self.out)
                        query = self.standin.user_taps(player.user_id, player.user_id,
                                                       message["message_id"],
                                                       button["callback_data"],
                                                       first_name=player.name)
                        await self.wait(lambda q=query: q in self.standin.answered)
                        if then is not None:
                            await self.wait(then)
                        self.show()
                        return
        raise RuntimeError(f"tombol {label!r} tidak ada di layar {player.label}")

    async def wait(self, condition: Any) -> None:
        await asyncio.to_thread(self.standin.wait_for, condition, WAIT)


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


async def _play(container: Container, standin: FakeTelegram, out: TextIO) -> str:
    people = _people(container)
    labels = {"opd": "Pemohon OPD", "kadis": "Kepala Dinas", "kabid": "Kepala Bidang",
              "tim": "Tim Teknis"}
    application = build_application(container, read_timeout=10, sweep_interval=30)
    chat = application.bot_data["pulih"]
    assert isinstance(chat, ChatRuntime)
    script = Script(standin, out, Player("Grup Tim Teknis", "", "", chat.team_chat_id))
    for index, (role, (nip, name)) in enumerate(people.items()):
        script.players[role] = Player(labels[role], name, nip, 810_000 + index)
    async with polling(application) as errors:
        script.narrate("Menghubungkan akun: admin membuat tautan, tiap orang membukanya")
        for role, player in script.players.items():
            code = await asyncio.to_thread(_invite_code, container, player.nip)
            await script.says(role, f"/start {code}")
        script.narrate("Langkah 1 - pemohon mengajukan permohonan dengan /mohon")
        await script.says("opd", "/mohon")
        systems = list(standin.chat(script.players["opd"].user_id).messages.values())[-1]
        first = systems["reply_markup"]["inline_keyboard"][0][0]["text"]
        await script.taps("opd", first, then=_grown(standin, script.players["opd"], 1))
        await script.taps("opd", "Database", then=_grown(standin, script.players["opd"], 1))
        await script.says("opd", "22-11-2026 23.00")
        await script.says("opd", "Setelah pembaruan aplikasi pagi ini, tabel pegawai rusak dan "
                                 "aplikasi tidak dapat dibuka.")
        await script.says("opd", "Layanan kepegawaian berhenti untuk seluruh sekolah.")
        await script.says("opd", f"{people['opd'][1]}, 0812-0000-0000")
        await script.taps("opd", "Buatkan surat permohonan",
                          then=_grown(standin, script.players["opd"], 1))
        await script.taps("opd", "Kirim", then=lambda: "Nomor tiket" in _last(
            standin, script.players["opd"]))
        ticket = _last(standin, script.players["opd"]).split("Nomor tiket: ", 1)[1].split()[0]
        await script.wait(_grown(standin, script.players["kadis"], 1))
        script.show()
        script.narrate("Langkah 2 - Kepala Dinas mendisposisikan dengan satu ketukan")
        kabid = people["kabid"][1]
        await script.taps("kadis", kabid,
                          then=_grown(standin, script.players["kabid"], 1))
        script.narrate("Langkah 3 - Kepala Bidang meneruskan ke Tim Teknis")
        # the assignment card, then the disposition sheet (made by the documents job)
        await script.taps("kabid", "Ke Tim Teknis (grup)", then=_grown(standin, script.team, 2))
        await asyncio.sleep(1.5)  # the requester's notices
        script.show()
        script.narrate("Di mana permohonan sekarang: /status")
        await script.says("opd", f"/status {ticket}")
    if errors:
        raise RuntimeError(f"bot gagal menangani pesan: {errors[0]!r}")
    return ticket


def _invite_code(container: Container, nip: str) -> str:
    with container.unit_of_work() as session:
        return invite(session, nip, container.clock(), "Admin (demo)")[1]


def _grown(standin: FakeTelegram, player: Player, more: int) -> Any:
    target = len(standin.chat(player.user_id).messages) + more
    return lambda: len(standin.chat(player.user_id).messages) >= target


def _last(standin: FakeTelegram, player: Player) -> str:
    messages = list(standin.chat(player.user_id).messages.values())
    return str(messages[-1].get("text", "")) if messages else ""


def run_demo(folder: Path, example: Path, out: TextIO) -> int:
    _folder(folder)
    data = folder / "data"
    prepare(data, folder / "inventory.toml", example)
    standin = FakeTelegram()
    standin.start()
    try:
        env = {"PULIH_DATABASE_URL": f"sqlite:///{data / 'pulih.sqlite3'}",
               "PULIH_DATA_DIR": str(data), "PULIH_INVENTORY": str(folder / "inventory.toml"),
               "PULIH_BOT_TOKEN": TOKEN, "PULIH_BOT_API_URL": f"{standin.url}/bot",
               "PULIH_BOT_FILE_URL": f"{standin.url}/file/bot",
               "PULIH_ENV_FILE": str(folder / "tidak-ada.env")}
        container = bootstrap(load_settings(environ=env))
        try:
            upgrade(container.engine)
            with container.unit_of_work() as session:
                sync_inventory(session, load_inventory(container.settings.inventory_path),
                               container.clock())
            print("Pulih demo: bot sungguhan, server Bot API lokal (127.0.0.1), SQLite di "
                  f"{data}.", file=out)
            ticket = asyncio.run(_play(container, standin, out))
            documents = folder / "dokumen"
            documents.mkdir(exist_ok=True)
            zone = container.settings.timezone
            with container.sessions() as session, \
                    (folder / "jejak-audit.csv").open("w", encoding="utf-8", newline="") as f:
                export_csv(session, f, zone)
            for path in sorted((data / "documents").rglob("*.pdf")):
                shutil.copy2(path, documents / path.name)
        finally:
            container.close()
    finally:
        standin.stop()
    print(f"\nDemo selesai. Permohonan {ticket} sampai di Tim Teknis (langkah 3).", file=out)
    print(f"Dokumen: {documents} ({', '.join(p.name for p in sorted(documents.iterdir()))})",
          file=out)
    print(f"Jejak audit: {folder / 'jejak-audit.csv'}.", file=out)
    print("Langkah 4-7 (cek backup, restore lewat SSH, laporan, pemberitahuan) masuk ke demo "
          "bersama fitur tim di Telegram.", file=out)
    return 0
