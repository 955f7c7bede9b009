"""Declaring an incident: the systems it hit each get a request, opened on its agency's
behalf in one transaction (all or, with a clear list of what is wrong, none), and the
agency is told; the shared cards and the board follow from the records (`cards`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Incident, Person, Request, RoleAssignment, System
from bot.render import render_text
from bot.services.audit.chain import append_event
from bot.services.documents.orders import Order, order_documents
from bot.services.outbox.queue import enqueue
from bot.services.requests.records import NewRequest, Scope, clean_field, open_for_agency
from bot.workflow.choices import Choice
from bot.workflow.refusals import NotAllowed, NotFound
from bot.workflow.rules import Actor
from bot.workflow.sop import TERMINAL_STATES, Role
from letters.timefmt import local_date

MAX_SYSTEMS = 200
MAX_TITLE = 200
_SPLIT = re.compile(r"[\s,;]+")


def may_declare(actor: Actor, day: datetime | None = None) -> Role:
    """The capacity in which `actor` declares or closes an incident: admin, or the Kepala
    Dinas (or whoever stands in for them today); NotAllowed otherwise."""
    if Role.ADMIN in actor.roles:
        return Role.ADMIN
    if Role.KADIS in actor.roles:
        return Role.KADIS
    if day is not None and any(g.role is Role.KADIS and g.active_on(day.date())
                               for g in actor.acting):
        return Role.KADIS
    raise NotAllowed("Insiden hanya dapat dinyatakan atau ditutup oleh Admin atau "
                     "Kepala Dinas.")


def system_codes(text: str) -> list[str]:
    """The codes named in `text` (spaces, commas or semicolons between), each once, in
    order."""
    seen: dict[str, None] = {}
    for code in _SPLIT.split(text.strip()):
        if code:
            seen.setdefault(code.upper(), None)
    return list(seen)


def agency_person(session: Session, agency_id: int) -> Person | None:
    """Who a request opened on the agency's behalf belongs to: its active OPD person,
    one linked to Telegram first (they hear of it and confirm at step 8)."""
    people = session.execute(
        select(Person).join(RoleAssignment).where(
            Person.agency_id == agency_id, Person.active.is_(True),
            RoleAssignment.role == Role.OPD.value).order_by(Person.id)).scalars().all()
    linked = [p for p in people if p.telegram_id]
    chosen = linked or list(people)
    return chosen[0] if chosen else None


@dataclass(frozen=True)
class Declared:
    incident_id: int
    code: str
    tickets: tuple[str, ...]  # opened now
    joined: tuple[str, ...]  # already open, taken into the incident


def _scope(recipe: str) -> Scope:
    return Scope.FILES if recipe == "files" else Scope.DATABASE


def declare(session: Session, actor: Actor, title: str, codes: list[str], now: datetime,
            zone: ZoneInfo) -> Declared:
    """Open the incident and a request for each system it names; NotAllowed/NotFound
    listing every problem, and nothing changed, when any code cannot be taken."""
    role = may_declare(actor, now.astimezone(zone))
    title = clean_field(title, MAX_TITLE, "judul insiden")
    if not title:
        raise NotAllowed("Tulis judul insiden, mis. \u201cGangguan pusat data 3 Desember\u201d.")
    if not codes:
        raise NotAllowed("Sebutkan kode sistem yang terdampak.")
    if len(codes) > MAX_SYSTEMS:
        raise NotAllowed(f"Satu insiden memuat paling banyak {MAX_SYSTEMS} sistem.")
    codes = list(dict.fromkeys(code.strip().upper() for code in codes if code.strip()))
    systems = {s.code.upper(): s for s in session.execute(
        select(System).where(func.upper(System.code).in_(codes),
                             System.active.is_(True))).scalars()}
    problems: list[str] = []
    plan: list[tuple[System, Person | None, Request | None]] = []
    for code in codes:
        system = systems.get(code)
        if system is None:
            problems.append(f"{code}: tidak terdaftar di inventaris")
            continue
        open_request = session.execute(
            select(Request).where(Request.system_id == system.id,
                                  Request.state.not_in([s.value for s in TERMINAL_STATES]))
            .order_by(Request.id.desc())).scalars().first()
        if open_request is not None and open_request.incident_id is not None:
            problems.append(f"{system.code}: sudah ditangani dalam insiden lain "
                            f"({open_request.ticket})")
            continue
        person = None
        if open_request is None:
            person = agency_person(session, system.agency_id)
            if person is None:
                problems.append(f"{system.code}: {system.agency.name} belum punya pegawai OPD "
                                "terdaftar (tambahkan dulu lewat pulih people)")
                continue
        plan.append((system, person, open_request))
    if problems:
        raise NotFound("Insiden belum dibuka; perbaiki dulu:\n- " + "\n- ".join(problems))
    incident = Incident(code=f"tmp-{now.timestamp()}", title=title, opened_at=now,
                        opened_by=actor.person_id)
    session.add(incident)
    session.flush()
    incident.code = f"INS-{local_date(now, zone).year}-{incident.id:03d}"
    opened: list[str] = []
    joined: list[str] = []
    for system, person, existing in plan:
        if existing is not None:  # filed by the agency already: followed, decided apart
            existing.incident_id, existing.apart = incident.id, True
            append_event(session, action="incident_join", now=now, actor_id=actor.person_id,
                         actor_name=actor.name, actor_role=role.value,
                         request_id=existing.id, data={"insiden": incident.code})
            joined.append(existing.ticket)
            continue
        assert person is not None
        reason = f"Insiden {incident.code}: {title}"
        request = open_for_agency(
            session, system, person.id, actor, role,
            NewRequest(system.code, _scope(system.recipe), reason), now, zone,
            incident_id=incident.id, on_behalf_of=system.agency.name)
        opened.append(request.ticket)
        _tell_agency(session, request, person, incident, now, zone)
    append_event(session, action="incident_open", now=now, actor_id=actor.person_id,
                 actor_name=actor.name, actor_role=role.value,
                 note=title, data={"insiden": incident.code, "sistem": codes,
                                   "permohonan": opened, "bergabung": joined})
    session.flush()
    return Declared(incident.id, incident.code, tuple(opened), tuple(joined))


def _tell_agency(session: Session, request: Request, person: Person, incident: Incident,
                 now: datetime, zone: ZoneInfo) -> None:
    """The agency hears its request was opened for it, and may add what it knows; its
    request letter (made by Pulih, on its behalf) is kept with the request's records."""
    chats = (person.telegram_id,) if person.telegram_id else ()
    order_documents(session, request.id, [Order("surat_permohonan", chats, kept=True)],
                    key=f"filed:{request.id}", now=now, actor_id=incident.opened_by)
    if person.telegram_id:
        enqueue(session, key=f"incident:{incident.id}:opened:{request.id}",
                chat_id=person.telegram_id, kind="notice", now=now, request_id=request.id,
                text=render_text("chat/incident_opened.txt.j2", zone, r=request,
                                 incident=incident, system=request.system).strip(),
                buttons=[[Choice("ik", request.id, 0)]])
