"""Closing an incident: its summary for the Kepala Dinas (every system, its times against
the Mutu Baku, what failed) issued as a numbered-by-code PDF, recorded like any document,
and sent to the Kepala Dinas and to whoever closed it. The requests go on as they stand:
each keeps its own records, clocks, report and letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import BackupCheck, Deadline, Incident, Person, Request, RestoreRun
from bot.services.audit import chain as audit
from bot.services.documents.case_file import official, restore_began
from bot.services.documents.office_papers import lay_out
from bot.services.documents.paperwork import send_document
from bot.services.documents.registry import issue_document
from bot.services.incidents.batch import find_incident
from bot.services.incidents.declare import may_declare
from bot.services.people.officials import holders
from bot.workflow.refusals import AlreadyDecided
from bot.workflow.rules import Actor
from bot.workflow.sop import STATE_LABELS, STEPS, Role, State
from letters.facts import IncidentLine, IncidentSummary, Official
from letters.render import SUMMARY, render_summary_pdf
from letters.timefmt import local_date


def _name(session: Session, person_id: int | None) -> str:
    person = session.get(Person, person_id) if person_id else None
    return person.name if person is not None else "-"


def _line(session: Session, request: Request, now: datetime) -> IncidentLine:
    runs = session.execute(select(RestoreRun).where(RestoreRun.request_id == request.id)
                           .order_by(RestoreRun.id)).scalars().all()
    good = [r for r in runs if r.status == "succeeded" and r.finished_at is not None]
    state = State(request.state)
    restored = good[-1] if good and state is not State.RESTORE_FAILED else None
    late = sorted({d.step for d in session.execute(select(Deadline).where(
        Deadline.request_id == request.id)).scalars()
        if (d.closed_at or now) > d.due_at})
    problem = ""
    if restored is None:
        if runs and runs[-1].error:
            problem = runs[-1].error.splitlines()[0][:300]
        else:
            check = session.execute(select(BackupCheck).where(
                BackupCheck.request_id == request.id).order_by(BackupCheck.id.desc())
            ).scalars().first()
            if check is not None and check.status == "failed":
                problem = "backup tidak lulus pemeriksaan"
    return IncidentLine(
        request.ticket, f"{request.system.name} ({request.system.code})", request.agency.name,
        STATE_LABELS[state], request.created_at,
        restored.finished_at if restored else None,
        (restored.finished_at - restore_began(restored))
        if restored and restored.finished_at else None,
        tuple(late), problem)


def summary_of(session: Session, row: Incident, closed: datetime, closed_by: str
               ) -> IncidentSummary:
    """The summary's facts, from the records."""
    requests = session.execute(select(Request).where(Request.incident_id == row.id)
                               .order_by(Request.id)).scalars().all()
    return IncidentSummary(
        row.code, row.title, row.opened_at, closed, _name(session, row.opened_by), closed_by,
        tuple(_line(session, r, closed) for r in requests), STEPS[5].service_time,
        sum((STEPS[n].service_time for n in range(2, 8)), timedelta()))


@dataclass(frozen=True)
class Closed:
    code: str
    document_id: int
    verification: str
    path: Path
    summary: IncidentSummary


def close_incident(c: Container, key: str, actor: Actor) -> Closed:
    """Close the incident and issue its summary (blocking: renders a PDF); AlreadyDecided
    if it was closed already (by someone else a moment ago, too), NotAllowed for anyone
    but an admin or the Kepala Dinas. The summary goes to the Kepala Dinas (and their
    stand-ins) and the closer."""
    now, zone = c.clock(), c.settings.timezone
    with c.sessions() as session:
        role = may_declare(actor, now.astimezone(zone))
        row = find_incident(session, key)
        if row.closed_at is not None:
            raise AlreadyDecided(f"Insiden {row.code} sudah ditutup pada "
                                 f"{row.closed_at:%d-%m-%Y}. Tidak ada yang diubah.")
        incident_id, code = row.id, row.code
        summary = summary_of(session, row, now, actor.name)
        person = session.get(Person, actor.person_id)
        signer = official(person) or Official(actor.name, "Pegawai")
        seq, digest = audit.head_anchor(session)
    pdf, verification = lay_out(c, render_summary_pdf, summary, number=None, signer=signer,
                                anchor=(seq, digest), now=now)
    with c.unit_of_work() as session:
        taken = session.execute(update(Incident).where(
            Incident.id == incident_id, Incident.closed_at.is_(None)).values(
            closed_at=now, closed_by=actor.person_id).execution_options(
            synchronize_session=False))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise AlreadyDecided(f"Insiden {code} baru saja ditutup oleh orang lain. Tidak "
                                 "ada yang diubah.")
        document = issue_document(session, kind=SUMMARY, content=pdf,
                                  folder=c.settings.data_dir / "documents", now=now,
                                  actor_id=actor.person_id, actor_name=actor.name,
                                  code=verification, issuer=c.office.stationery.office.name,
                                  signer=signer)
        session.execute(update(Incident).where(Incident.id == incident_id).values(
            summary_id=document.id).execution_options(synchronize_session=False))
        audit.append_event(session, action="incident_close", now=now,
                           actor_id=actor.person_id, actor_name=actor.name,
                           actor_role=role.value, data={
                               "insiden": code, "ringkasan": document.verification_code,
                               "pulih": summary.restored, "sistem": len(summary.lines)})
        readers = {p.telegram_id for p in holders(session, Role.KADIS, local_date(now, zone))
                   if p.telegram_id}
        if person is not None and person.telegram_id:
            readers.add(person.telegram_id)
        send_document(session, document, code, sorted(readers), now, zone)
        return Closed(code, document.id, document.verification_code,
                      Path(document.file_path), summary)
