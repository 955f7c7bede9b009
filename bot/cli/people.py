"""`pulih people`: who is there, links for many at once, unlink a lost phone, deactivate
and activate; each change recorded in the activity record."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
from typing import TextIO

from telegram import Bot
from telegram.error import TelegramError

from bot.bootstrap import Container
from bot.errors import PulihError
from bot.render import render_text
from bot.services.people.admin import Admin, activate, deactivate, people, unlink, unlinked_nips
from bot.services.people.linking import CODE_LIFETIME, invite
from bot.workflow.sop import ROLE_LABELS

log = logging.getLogger("pulih")


def people_commands(args: argparse.Namespace, c: Container, out: TextIO) -> int:
    zone, now = c.settings.timezone, c.clock()
    admin = Admin(f"Admin CLI ({getpass.getuser()})", role="cli")
    command = args.people_command
    if command == "list":
        with c.sessions() as session:
            rows = people(session)
        out.write(render_text("cli/people_list.txt.j2", zone, rows=rows, labels=ROLE_LABELS))
        return 0
    if command == "invite":
        return _invite(args, c, out)
    changes = {"unlink": lambda s: unlink(s, args.nip, admin, now),
               "deactivate": lambda s: deactivate(s, args.nip, admin, now, args.reason or ""),
               "activate": lambda s: activate(s, args.nip, admin, now)}
    with c.unit_of_work() as session:
        person = changes[command](session)
        name = person.name
    out.write(render_text("cli/people_changed.txt.j2", zone, change=command, name=name,
                          nip=args.nip))
    return 0


def _invite(args: argparse.Namespace, c: Container, out: TextIO) -> int:
    with c.sessions() as session:
        nips = unlinked_nips(session) if args.all_unlinked else args.nips
    if not nips:
        raise PulihError("Tidak ada NIP: sebutkan NIP, atau --semua-belum-terhubung."
                         if not args.all_unlinked else
                         "Semua pegawai aktif sudah terhubung; tidak ada tautan dibuat.")
    links = []
    with c.unit_of_work() as session:
        for nip in nips:
            person, code = invite(session, nip, c.clock())
            links.append((person.name, person.nip, code))
    out.write(render_text("cli/people_invite.txt.j2", c.settings.timezone, links=links,
                          username=_bot_username(c), lifetime=CODE_LIFETIME))
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
