"""Step 1 from chat: the requester's form becomes a request, its notifications, and its
request letter (the uploaded signed PDF, or one Pulih generates)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import Document, System
from bot.services.documents.letters import issue_letter, register_request_letter
from bot.services.documents.paperwork import send_document
from bot.services.people.officials import holders
from bot.services.requests.notify import notify_move
from bot.services.requests.records import NewRequest, submit_request
from bot.workflow.refusals import NotAllowed, Refusal
from bot.workflow.rules import Actor
from bot.workflow.sop import Role
from letters.timefmt import local_date

log = logging.getLogger("pulih.filing")
_POINT = re.compile(r"^\s*(\d{1,2})[-/](\d{1,2})[-/](\d{4})(?:\s+(\d{1,2})[.:](\d{2}))?\s*$")


def agency_systems(session: Session, agency_id: int | None) -> list[tuple[int, str, str]]:
    """(id, code, name) of the active systems the agency owns."""
    rows = session.execute(select(System).where(System.agency_id == agency_id,
                                                System.active.is_(True))
                           .order_by(System.name)).scalars()
    return [(s.id, s.code, s.name) for s in rows]


def parse_point(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """'22-11-2026 23.00' (WITA) as an aware time; NotAllowed with the expected form."""
    match = _POINT.match(text)
    if match is None:
        raise NotAllowed("Tulis tanggal dan jam seperti 22-11-2026 23.00 (WITA), atau pilih "
                         "\u201cBackup terakhir\u201d.")
    day, month, year, hour, minute = (int(g) if g else 0 for g in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError as exc:
        raise NotAllowed("Tanggal atau jam itu tidak ada di kalender.") from exc
    if moment > now:
        raise NotAllowed("Titik pemulihan tidak boleh di masa depan.")
    return moment


@dataclass(frozen=True)
class Filed:
    request_id: int
    ticket: str
    letter_code: str | None
    letter_problem: str | None


def file_request(c: Container, actor: Actor, new: NewRequest,
                 upload: bytes | None = None) -> Filed:
    """Submit the request and enqueue its notifications in one transaction; then attach
    the request letter. A letter that fails leaves the request standing, and says why."""
    now, zone = c.clock(), c.settings.timezone
    with c.unit_of_work() as session:
        request = submit_request(session, actor, new, now, zone)
        notify_move(session, request, now, zone, c.office.team_chat_id)
        request_id, ticket = request.id, request.ticket
    def to_kadis(session: Session, document: Document) -> None:
        send_document(session, document, ticket,
                      [p.telegram_id for p in holders(session, Role.KADIS, local_date(now, zone))
                       if p.telegram_id], c.clock(), zone)

    try:
        if upload is not None:
            letter = register_request_letter(c, ticket, upload, actor_id=actor.person_id,
                                             on_issued=to_kadis)
        else:
            letter = issue_letter(c, "surat_permohonan", ticket, actor_id=actor.person_id,
                                  on_issued=to_kadis)
    except Refusal as refusal:
        return Filed(request_id, ticket, None, refusal.message)
    except Exception:  # the request stands; the letter can be made again from the CLI
        log.exception("surat permohonan %s gagal dibuat", ticket)
        return Filed(request_id, ticket, None, "Surat permohonan belum dapat dibuat; admin "
                     "Pulih akan membuatnya ulang.")
    return Filed(request_id, ticket, letter.code, None)
