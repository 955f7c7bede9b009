"""What "Periksa & pulihkan semua" does for one request of an incident (blocking: SSH):
its backup point chosen as the agency asked (the newest at or before the requested time,
else the newest), checked (step 4, recorded), and, if it passes, its restore put in the
restore queue (step 5), where the limits per backup server and in all hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import Request
from bot.services.audit.chain import append_event
from bot.services.incidents.batch import READY, as_seen, incident, items, ready
from bot.services.requests.records import MAX_REASON, clean_field, get_request
from bot.services.restores.runs import RunTicket
from bot.services.restores.teamwork import (
    CheckDone,
    begin_restore,
    check_for_request,
    restore_points,
)
from bot.workflow.refusals import AlreadyDecided, NotAllowed, WrongAgency
from bot.workflow.rules import Actor
from bot.workflow.sop import Role, State
from letters.timefmt import waktu
from restore.errors import BackupInvalid


@dataclass(frozen=True)
class Begun:
    ticket: RunTicket | None  # queued; None when the check did not pass
    check: CheckDone


def ready_listed(session: Session, incident_id: int, seen: int) -> list[int]:
    """The requests "Periksa & pulihkan semua" acts on, if the board was current."""
    row = incident(session, incident_id)
    if row.closed_at is not None:
        raise AlreadyDecided(f"Insiden {row.code} sudah ditutup. Tidak ada yang diubah.")
    listed = ready(items(session, incident_id))
    as_seen(listed, seen)
    return [i.request_id for i in listed]


def check_and_queue(c: Container, request_id: int, actor: Actor, queued: bool) -> Begun:
    """Check the request's point and, if it passes, queue its restore."""
    with c.sessions() as session:
        if State(get_request(session, request_id).state) not in READY:
            raise AlreadyDecided("Permohonan ini sudah tidak menunggu pemeriksaan backup.")
    found = restore_points(c, request_id, actor)
    points = [p for p in found.points
              if found.requested is None or p.taken_at <= found.requested]
    if not points:
        raise BackupInvalid("Tidak ada titik backup" + (
            " sebelum titik pemulihan yang diminta." if found.requested else "."))
    done = check_for_request(c, request_id, actor, int(points[0].taken_at.timestamp()))
    if not done.passed:
        return Begun(None, done)
    return Begun(begin_restore(c, request_id, actor, done.check_id, done.version, queued),
                 done)


MAX_DETAIL = 2000


def detail_target(session: Session, request_id: int, actor: Actor) -> Request:
    """The request `actor` may add details to: one of their agency's, opened in an
    incident; a Refusal otherwise."""
    request = get_request(session, request_id)
    if Role.OPD not in actor.roles or actor.agency_id != request.agency_id:
        raise WrongAgency()
    if request.incident_id is None:
        raise NotAllowed("Keterangan tambahan hanya untuk permohonan yang dibuka dalam "
                         "insiden.")
    return request


def add_detail(session: Session, request_id: int, actor: Actor, words: str,
               now: datetime, zone: ZoneInfo) -> Request:
    """What the agency adds to a request opened on its behalf: kept with the request's
    details (read at /status, in its letters) and in the activity record."""
    request = detail_target(session, request_id, actor)
    words = clean_field(words, MAX_DETAIL, "keterangan")
    if not words:
        raise NotAllowed("Keterangan kosong; tidak ada yang diubah.")
    line = f"Keterangan OPD ({actor.name}, {waktu(now, zone)}): {words}"
    request.impact = clean_field(f"{request.impact}\n{line}" if request.impact else line,
                                 MAX_REASON * 4, "keterangan")
    append_event(session, action="detail_added", now=now, actor_id=actor.person_id,
                 actor_name=actor.name, actor_role=Role.OPD.value, request_id=request.id,
                 note=words)
    return request
