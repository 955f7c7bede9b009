"""The decisions an incident's shared cards carry: each is the SOP's own decision, taken
on every request the card listed, in one transaction: all of them or, should any be
refused, none. A card is as of the requests it listed (a digest of their versions): a
tap on a card the requests have since outgrown is refused, and the card is rewritten."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.db.models import Incident, Request
from bot.services.audit.chain import append_event
from bot.services.requests.decisions import decide
from bot.services.requests.notify import notify_move
from bot.services.requests.records import ensure_allowed, get_request
from bot.workflow.refusals import AlreadyDecided, NotAllowed, NotFound
from bot.workflow.rules import Actor
from bot.workflow.sop import Action, Role, State

# Where a shared request waits on an official, and the decision its card takes for all.
WAITS_ON = {State.SUBMITTED: Action.DISPOSE, State.DISPOSED_TO_KABID: Action.ASSIGN,
            State.REPORT_SUBMITTED: Action.RATIFY}
# Where the team can check a request's backup and restore it (again).
READY = frozenset({State.ASSIGNED_TO_TEAM, State.REOPENED, State.BACKUP_CHECKED,
                   State.RESTORE_FAILED})


@dataclass(frozen=True)
class Item:
    """One request of the incident, as the cards show it."""

    request_id: int
    version: int
    ticket: str
    code: str
    name: str
    agency: str
    state: State
    apart: bool
    kabid_id: int | None
    priority: int


def incident(session: Session, incident_id: int) -> Incident:
    row = session.get(Incident, incident_id)
    if row is None:
        raise NotFound("Insiden itu tidak ditemukan.")
    return row


def find_incident(session: Session, key: str) -> Incident:
    """An incident by its code (INS-2026-001) or number."""
    key = key.strip().upper()
    if key.isdigit():
        return incident(session, int(key))
    row = session.execute(select(Incident).where(Incident.code == key)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Insiden {key} tidak ditemukan.")
    return row


def items(session: Session, incident_id: int) -> list[Item]:
    """The incident's requests, public services first, then by ticket."""
    rows = session.execute(select(Request).where(Request.incident_id == incident_id)
                           .options(joinedload(Request.system), joinedload(Request.agency))
                           .order_by(Request.id)).scalars().all()
    found = [Item(r.id, r.version, r.ticket, r.system.code, r.system.name, r.agency.name,
                  State(r.state), r.apart, r.kabid_id, r.system.priority or 5) for r in rows]
    return sorted(found, key=lambda i: (i.priority, i.request_id))


def waiting(found: Iterable[Item], state: State, kabid_id: int | None = None) -> list[Item]:
    """The shared requests waiting in `state` (on this Kepala Bidang, if named)."""
    return [i for i in found if i.state is state and not i.apart
            and (kabid_id is None or i.kabid_id == kabid_id)]


def ready(found: Iterable[Item]) -> list[Item]:
    """The shared requests whose backup the team can check and restore now."""
    return [i for i in found if i.state in READY and not i.apart]


def digest(found: Iterable[Item]) -> int:
    """What a card's button carries of the requests it listed (ids and versions)."""
    text = ",".join(f"{i.request_id}:{i.version}" for i in sorted(
        found, key=lambda i: i.request_id))
    return zlib.crc32(text.encode()) % 1_000_000_000


def as_seen(listed: list[Item], seen: int) -> None:
    if not listed:
        raise AlreadyDecided("Tidak ada lagi permohonan yang menunggu di kartu ini. "
                             "Tidak ada yang diubah.")
    if digest(listed) != seen:
        raise AlreadyDecided("Kartu insiden ini sudah berubah sejak Anda membacanya; kartu "
                             "diperbarui, periksa lalu tekan lagi. Tidak ada yang diubah.")


def _open(session: Session, incident_id: int) -> Incident:
    row = incident(session, incident_id)
    if row.closed_at is not None:
        raise AlreadyDecided(f"Insiden {row.code} sudah ditutup. Tidak ada yang diubah.")
    return row


def dispose_all(session: Session, incident_id: int, actor: Actor, kabid_id: int, seen: int,
                now: datetime, zone: ZoneInfo, team_chat_id: int) -> list[str]:
    """Step 2 for every request the Kepala Dinas's card lists: to this Kepala Bidang."""
    _open(session, incident_id)
    listed = waiting(items(session, incident_id), State.SUBMITTED)
    as_seen(listed, seen)
    for item in listed:
        decide(session, item.request_id, actor, Action.DISPOSE, now, zone, team_chat_id,
               version=item.version, target_id=kabid_id)
    return [i.ticket for i in listed]


def principals(actor: Actor, now: datetime, zone: ZoneInfo) -> set[int]:
    """The Kepala Bidang whose requests `actor` decides today: themself, and those they
    stand in for."""
    day = now.astimezone(zone).date()
    return {actor.person_id} | {g.principal_id for g in actor.acting if g.active_on(day)}


def _kabid_listed(session: Session, incident_id: int, actor: Actor, kabid_id: int,
                  state: State, seen: int, now: datetime, zone: ZoneInfo) -> list[Item]:
    _open(session, incident_id)
    if kabid_id not in principals(actor, now, zone):
        raise NotAllowed("Kartu ini untuk Kepala Bidang lain.")
    listed = waiting(items(session, incident_id), state, kabid_id)
    as_seen(listed, seen)
    return listed


def assign_all(session: Session, incident_id: int, actor: Actor, kabid_id: int, seen: int,
               now: datetime, zone: ZoneInfo, team_chat_id: int) -> list[str]:
    """Step 3 for every request the Kepala Bidang's card lists: to the whole team."""
    listed = _kabid_listed(session, incident_id, actor, kabid_id, State.DISPOSED_TO_KABID,
                           seen, now, zone)
    for item in listed:
        decide(session, item.request_id, actor, Action.ASSIGN, now, zone, team_chat_id,
               version=item.version, instruction="Laksanakan restore, laporkan hasil")
    return [i.ticket for i in listed]


def ratify_all(session: Session, incident_id: int, actor: Actor, kabid_id: int, seen: int,
               now: datetime, zone: ZoneInfo, team_chat_id: int) -> list[str]:
    """Step 6 for every report the Kepala Bidang's card lists; each notification letter
    (step 7) goes to its agency at once."""
    listed = _kabid_listed(session, incident_id, actor, kabid_id, State.REPORT_SUBMITTED,
                           seen, now, zone)
    for item in listed:
        decide(session, item.request_id, actor, Action.RATIFY, now, zone, team_chat_id,
               version=item.version)
    return [i.ticket for i in listed]


def set_apart(session: Session, request_id: int, actor: Actor, now: datetime,
              zone: ZoneInfo, team_chat_id: int) -> str:
    """Take one request off the shared cards: the official it waits on gets its own card
    (to decide it otherwise: return, reject, a note for the team). Only the official it
    waits on may."""
    request = get_request(session, request_id)
    state = State(request.state)
    action = WAITS_ON.get(state)
    if request.incident_id is None or request.apart or action is None:
        raise AlreadyDecided("Permohonan ini tidak lagi menunggu di kartu insiden. Tidak ada "
                             "yang diubah.")
    ensure_allowed(session, request_id, actor, action, now, zone)
    request.apart = True
    append_event(session, action="incident_apart", now=now, actor_id=actor.person_id,
                 actor_name=actor.name,
                 actor_role=(Role.KADIS if action is Action.DISPOSE else Role.KABID).value,
                 request_id=request.id,
                 data={"insiden": incident(session, request.incident_id).code})
    session.flush()
    notify_move(session, request, now, zone, team_chat_id)
    return request.ticket


def on_shared_cards(session: Session, request_id: int) -> bool:
    """Whether the request is followed on its incident's board (no message of its own)."""
    request = session.get(Request, request_id)
    return request is not None and request.incident_id is not None and not request.apart
