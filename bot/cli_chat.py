"""`pulih run` (the bot itself) and `pulih people invite NIP` (a link for a person)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import TextIO

from telegram import Bot
from telegram.error import TelegramError

from bot.bootstrap import Container
from bot.chat.app import build_application, webhook_options
from bot.services.linking import CODE_LIFETIME, invite
from bot.timefmt import durasi

log = logging.getLogger("pulih")


def add_chat_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands.add_parser("run", help="jalankan bot Telegram (long polling, koneksi keluar saja)")
    people = commands.add_parser("people", help="pegawai dan akun Telegram mereka")
    sub = people.add_subparsers(dest="people_command", required=True)
    inv = sub.add_parser("invite", help="buat tautan sekali pakai untuk menghubungkan akun")
    inv.add_argument("nip", help="NIP pegawai di inventaris")


def chat_commands(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    if args.command == "run":
        return _run(c, out)
    return _invite(args, c, out)


def _run(c: Container, out: TextIO) -> int:
    application = build_application(c)
    if c.settings.webhook_url:
        options = webhook_options(c.settings)
        print(f"Pulih berjalan (webhook {c.settings.webhook_url}, mendengar di "
              f"{options['listen']}:{options['port']}/{options['url_path']}); hentikan dengan "
              "Ctrl+C.", file=out, flush=True)
        application.run_webhook(**options)
        return 0
    print(f"Pulih berjalan (long polling ke {c.settings.bot_api_url.rsplit('/', 1)[0]}); "
          "hentikan dengan Ctrl+C.", file=out, flush=True)
    application.run_polling(allowed_updates=["message", "callback_query"],
                            drop_pending_updates=False)
    return 0


def _bot_username(c: Container) -> str | None:
    token = c.settings.bot_token
    if not token:
        return None

    async def ask() -> str | None:
        async with Bot(token, base_url=c.settings.bot_api_url,
                       base_file_url=c.settings.bot_file_url) as bot:
            return bot.username

    try:
        return asyncio.run(ask())
    except TelegramError as exc:
        log.warning("nama bot tidak dapat ditanyakan ke Bot API: %s", exc)
        return None


def _invite(args: argparse.Namespace, c: Container, out: TextIO) -> int:
    with c.unit_of_work() as session:
        person, code = invite(session, args.nip, c.clock())
        name = person.name
    username = _bot_username(c)
    print(f"Tautan untuk {name} (berlaku {durasi(CODE_LIFETIME)}, sekali pakai):", file=out)
    if username:
        print(f"  https://t.me/{username}?start={code}", file=out)
    else:
        print(f"  buka bot Pulih di Telegram dan kirim: /start {code}", file=out)
    print("Kirim tautan ini hanya kepada yang bersangkutan; siapa pun yang membukanya "
          "lebih dulu akan terhubung sebagai pegawai tersebut.", file=out)
    return 0
