"""Requests and their transitions: every change is authorized, recorded and clocked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.db.models import AuditEvent, Person, Request, RoleAssignment, System
from bot.services.audit.chain import DocumentRef, append_event
from bot.services.requests.deadlines import set_deadline_for
from bot.workflow.refusals import AlreadyDecided, NotAllowed, NotFound, WrongAgency
from bot.workflow.rules import Actor, Authority, PastAction, RequestFacts, authorize
from bot.workflow.sop import (
    ROLE_LABELS,
    TERMINAL_STATES,
    Action,
    Role,
    State,
)
from letters.timefmt import local_date

MAX_REASON = 5000
_ACTIONS = frozenset(a.value for a in Action)
MAX_SHORT = 200


class Scope(StrEnum):
    """What the requester wants restored."""

    DATABASE = "database"
    FILES = "files"
    BOTH = "both"


SCOPE_LABELS = {Scope.DATABASE: "Database", Scope.FILES: "File aplikasi",
                Scope.BOTH: "Database dan file aplikasi"}


@dataclass(frozen=True)
class NewRequest:
    """What a requester enters at step 1."""

    system_code: str
    scope: Scope
    reason: str
    impact: str = ""
    contact: str = ""
    recovery_point: datetime | None = None  # None: the latest good backup
    letter_number: str | None = None
    letter_date: date | None = None


def clean_field(text: str, limit: int, field: str) -> str:
    """Free text as stored: NULs dropped, trimmed; NotAllowed when over `limit`."""
    text = text.replace("\x00", "").strip()
    if len(text) > limit:
        raise NotAllowed(f"Isian {field} terlalu panjang (maksimal {limit} karakter).")
    return text


def ticket_for(request_id: int, created: datetime, zone: ZoneInfo) -> str:
    """The number people quote: PLH-<year>-<id, five digits>, the year of filing in the
    office's zone (a request filed on 1 January 00.30 WITA is of the new year)."""
    return f"PLH-{local_date(created, zone).year}-{request_id:05d}"


MAX_REQUESTS_PER_HOUR = 5  # per person: more is a flood (or a script), not an office


def submit_request(session: Session, actor: Actor, new: NewRequest, now: datetime,
                   zone: ZoneInfo) -> Request:
    """Step 1: an OPD user files a request for one of their own agency's systems."""
    if Role.OPD not in actor.roles:
        raise NotAllowed("Permohonan restore hanya dapat diajukan oleh pegawai OPD.")
    system = session.execute(
        select(System).where(System.code == new.system_code, System.active.is_(True))
    ).scalar_one_or_none()
    if system is None:
        raise NotFound("Sistem tersebut tidak terdaftar di inventaris Diskominfo.")
    if system.agency_id != actor.agency_id:
        raise WrongAgency()
    filed = session.execute(select(func.count()).select_from(Request).where(
        Request.requester_id == actor.person_id, Request.incident_id.is_(None),
        Request.created_at > now - timedelta(hours=1))).scalar_one()
    if filed >= MAX_REQUESTS_PER_HOUR:
        raise NotAllowed(f"Anda sudah mengajukan {filed} permohonan dalam satu jam terakhir. "
                         "Tunggu sebentar, atau hubungi Tim Teknis bila mendesak.")
    reason = clean_field(new.reason, MAX_REASON, "alasan")
    if not reason:
        raise NotAllowed("Alasan permohonan wajib diisi.")
    return _open(session, system, actor.person_id, new, reason, now, zone, by=actor,
                 role=Role.OPD)


def _open(session: Session, system: System, requester_id: int, new: NewRequest, reason: str,
          now: datetime, zone: ZoneInfo, *, by: Actor, role: Role,
          incident_id: int | None = None, data: dict[str, Any] | None = None) -> Request:
    """The request row, its ticket, its SUBMIT record and its step-2 clock."""
    request = Request(
        ticket=f"tmp-{now.timestamp()}-{requester_id}-{system.id}",
        agency_id=system.agency_id,
        system_id=system.id,
        requester_id=requester_id,
        scope=Scope(new.scope).value,
        recovery_point=new.recovery_point,
        reason=reason,
        impact=clean_field(new.impact, MAX_REASON, "dampak"),
        contact=clean_field(new.contact, MAX_SHORT, "kontak"),
        letter_number=clean_field(new.letter_number, MAX_SHORT, "nomor surat")
        if new.letter_number else None,
        letter_date=new.letter_date,
        state=State.SUBMITTED.value,
        version=1,
        created_at=now,
        updated_at=now,
        incident_id=incident_id,
    )
    session.add(request)
    session.flush()
    request.ticket = ticket_for(request.id, now, zone)
    append_event(
        session, action=Action.SUBMIT.value, now=now, actor_id=by.person_id,
        actor_name=by.name, actor_role=role.value, request_id=request.id,
        to_state=State.SUBMITTED.value, note=reason,
        data={"ticket": request.ticket, "system": system.code, "scope": request.scope,
              **(data or {})},
    )
    set_deadline_for(session, request.id, State.SUBMITTED, now, zone)
    session.flush()
    return request


def open_for_agency(session: Session, system: System, requester_id: int, by: Actor,
                    role: Role, new: NewRequest, now: datetime, zone: ZoneInfo, *,
                    incident_id: int, on_behalf_of: str) -> Request:
    """Step 1 done by Diskominfo on an agency's behalf (a declared incident): the request
    is the agency's (its person is the requester, who hears of it and confirms at step
    8); the record says who opened it, as what, and for whom."""
    reason = clean_field(new.reason, MAX_REASON, "alasan")
    return _open(session, system, requester_id, new, reason, now, zone, by=by, role=role,
                 incident_id=incident_id, data={"atas_nama": on_behalf_of})


def get_request(session: Session, request_id: int) -> Request:
    """The request, or NotFound with a message for the user."""
    request = session.get(Request, request_id)
    if request is None:
        raise NotFound(f"Permohonan #{request_id} tidak ditemukan.")
    return request


def find_request(session: Session, key: str) -> Request:
    """A request by ticket (PLH-2026-00001) or by its number."""
    key = key.strip()
    if key.isdigit():
        return get_request(session, int(key))
    request = session.execute(
        select(Request).where(func.upper(Request.ticket) == key.upper())
    ).scalar_one_or_none()
    if request is None:
        raise NotFound(f"Permohonan {key} tidak ditemukan.")
    return request


def facts_of(session: Session, request: Request) -> RequestFacts:
    """What the rules need to know, including every past decision on the request."""
    history = tuple(
        PastAction(Action(e.action), e.actor_name, e.occurred_at)
        for e in session.execute(
            select(AuditEvent).where(AuditEvent.request_id == request.id)
            .order_by(AuditEvent.seq)
        ).scalars()
        if e.action in _ACTIONS
    )
    return RequestFacts(
        state=State(request.state),
        agency_id=request.agency_id,
        requester_id=request.requester_id,
        kabid_id=request.kabid_id,
        executor_id=request.executor_id,
        report_author_id=request.report_author_id,
        history=history,
    )


def ensure_allowed(session: Session, request_id: int, actor: Actor, action: Action,
                   now: datetime, zone: ZoneInfo) -> None:
    """Refuse now, before slow work (SSH, PDF), what `apply_action` would refuse later."""
    request = get_request(session, request_id)
    authorize(action, facts_of(session, request), actor, now, zone, reason="-")


def _acting_label(session: Session, authority: Authority) -> str:
    grant = authority.acting
    if grant is None:
        return ""
    principal = session.get(Person, grant.principal_id)
    name = principal.name if principal else f"#{grant.principal_id}"
    return f"{grant.kind} {ROLE_LABELS[grant.role]} (menggantikan {name})"


def _holds_role(session: Session, person_id: int, role: Role) -> Person | None:
    person = session.get(Person, person_id)
    if person is None or not person.active:
        return None
    held = session.execute(
        select(RoleAssignment).where(RoleAssignment.person_id == person_id,
                                     RoleAssignment.role == role.value)
    ).scalar_one_or_none()
    return person if held else None


def apply_action(
    session: Session,
    request_id: int,
    actor: Actor,
    action: Action,
    now: datetime,
    zone: ZoneInfo,
    *,
    reason: str | None = None,
    target_id: int | None = None,
    expected_version: int | None = None,
    documents: tuple[DocumentRef, ...] = (),
    data: dict[str, Any] | None = None,
) -> Request:
    """Take `action` on the request for `actor`, or raise a Refusal and change nothing.

    `target_id` names the Kepala Bidang for a disposition, or the team member for an
    assignment (none: the whole team). `expected_version` is the version the user saw
    (from a button); a card older than the request is refused as already decided.
    """
    request = get_request(session, request_id)
    if reason is not None:
        reason = clean_field(reason, MAX_REASON, "alasan")
    facts = facts_of(session, request)
    authority = authorize(action, facts, actor, now, zone, reason)
    if expected_version is not None and expected_version != request.version:
        raise AlreadyDecided("Kartu ini sudah usang: permohonan telah berubah sejak kartu "
                             "dikirim. Tidak ada yang diubah.")
    changes: dict[str, Any] = {}
    event_data = dict(data or {})
    if action is Action.DISPOSE:
        if target_id is None or _holds_role(session, target_id, Role.KABID) is None:
            raise NotAllowed("Pilih Kepala Bidang tujuan disposisi.")
        if target_id == request.requester_id:
            raise NotAllowed("Disposisi tidak dapat diberikan kepada pemohon sendiri.")
        changes["kabid_id"] = target_id
        event_data["kepada_id"] = target_id
    elif action is Action.ASSIGN:
        if target_id is not None:
            if _holds_role(session, target_id, Role.TIM) is None:
                raise NotAllowed("Pegawai yang dipilih bukan anggota Tim Teknis.")
            event_data["kepada_id"] = target_id
        changes["assignee_id"] = target_id
    elif action is Action.START_RESTORE:
        changes["executor_id"] = actor.person_id
    elif action is Action.SUBMIT_REPORT:
        changes["report_author_id"] = actor.person_id

    target = authority.transition.target
    if target in TERMINAL_STATES:
        changes["closed_at"] = now
    result = session.execute(
        update(Request)
        .where(Request.id == request.id, Request.version == request.version)
        .values(state=target.value, version=request.version + 1, updated_at=now, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyDecided("Permohonan ini baru saja diputuskan oleh orang lain. "
                             "Tidak ada yang diubah.")
    append_event(
        session, action=action.value, now=now, actor_id=actor.person_id,
        actor_name=actor.name, actor_role=authority.role.value,
        acting=_acting_label(session, authority), request_id=request.id,
        from_state=request.state, to_state=target.value, note=(reason or "").strip(),
        documents=documents, data=event_data,
    )
    set_deadline_for(session, request.id, target, now, zone)
    session.flush()
    session.refresh(request)
    return request
