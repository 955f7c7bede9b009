"""`pulih incident open|show|close`: incident mode from the command line (the same
services as /insiden; the bot then sends the cards and the board)."""

from __future__ import annotations

import argparse
from typing import TextIO

from bot.bootstrap import Container
from bot.render import render_text
from bot.services.incidents.batch import find_incident, items
from bot.services.incidents.cards import incident_cards
from bot.services.incidents.closing import close_incident
from bot.services.incidents.declare import declare
from bot.services.people.actors import actor_by_nip


def incident_commands(args: argparse.Namespace, c: Container, out: TextIO,
                      err: TextIO) -> int:
    zone = c.settings.timezone
    if args.incident_command == "open":
        codes = [code.upper() for code in args.systems]
        with c.unit_of_work() as session:
            declared = declare(session, actor_by_nip(session, args.nip), args.title, codes,
                               c.clock(), zone)
        out.write(render_text("cli/incident_opened.txt.j2", zone, declared=declared))
        return 0
    if args.incident_command == "close":
        with c.sessions() as session:
            actor = actor_by_nip(session, args.nip)
        closed = close_incident(c, args.code, actor)
        out.write(render_text("cli/incident_closed.txt.j2", zone, closed=closed))
        return 0
    with c.sessions() as session:
        row = find_incident(session, args.code)
        board = [card for card in incident_cards(
            session, row, c.clock(), zone, -1, c.settings.restores_at_once)
            if card.key.endswith(":board")]
        out.write(render_text("cli/incident_show.txt.j2", zone, row=row,
                              found=items(session, row.id), board=board[0].text))
    return 0
