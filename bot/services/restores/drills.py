"""Restore drills (issue 20): a system's newest restore point checked (step 4), restored
into a shadow on its target exactly as a real restore up to the shadow's verification,
and the shadow dropped; nothing is ever swapped. A drill is a restore run of its own kind
(`restore_runs.kind = "uji"`): it waits in the same restore queue, under the same limits
(K per backup server, N in all, one run per system), and a real restore always comes
first: a drill is refused while one of the system is queued or running, and a real
restore asked for while a drill holds the system stops the drill (runs.start_run).

Each drill ends in a "Laporan Uji Pemulihan" (numbered in the office's register, issued
and verifiable like every document) sent to the team group; a failed one is an alert
with its reason. Reports are issued by one process (the bot), from the records, so a
worker on another host, or a crash between the drill's end and its report, changes
nothing: the report follows once."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import BackupCheck, Person, RestoreRun, System
from bot.render import render_text
from bot.services.audit import chain as audit
from bot.services.documents.case_file import official
from bot.services.documents.office_papers import lay_out, office_number
from bot.services.documents.registry import issue_document
from bot.services.outbox.queue import Attachment, enqueue
from bot.services.restores.backups import list_backups, record_check, run_check, system_access
from bot.services.restores.runs import DRILL
from bot.workflow.rules import Actor
from letters.facts import DrillReport, DrillStep, Official
from letters.render import DRILL as DRILL_KIND
from letters.render import render_drill_pdf
from restore.check import Verdict
from restore.engine import PHASE_LABELS, Phase
from restore.errors import Busy, RestoreError

REAL_FIRST = ("Restore #{id} sistem ini {how}; uji pemulihan tidak dijalankan selama ada "
              "restore sungguhan.")


@dataclass(frozen=True)
class Prepared:
    """A drill put in line (`queued`), or one that failed before it could (its reason)."""

    run_id: int
    uid: str
    code: str
    name: str
    point: str
    queued: bool
    reason: str = ""


def holder(session: Session, system_id: int) -> RestoreRun | None:
    """The run holding the system now (queued or running, or sealing), if any."""
    return session.execute(select(RestoreRun).where(RestoreRun.lock_key == system_id)
                           ).scalar_one_or_none()


def refuse_if_busy(session: Session, system_id: int) -> None:
    """Busy when a run holds the system: a real restore (it comes first), or a drill."""
    active = holder(session, system_id)
    if active is None:
        return
    if active.kind == DRILL:
        raise Busy(f"Uji pemulihan #{active.id} sistem ini sudah "
                   f"{'dalam antrean' if active.status == 'queued' else 'berjalan'}.")
    how = "dalam antrean" if active.status == "queued" else "sedang berjalan"
    raise Busy(REAL_FIRST.format(id=active.id, how=how))


def prepare_drill(c: Container, code: str, actor: Actor | None) -> Prepared:
    """Check the system's newest point and, if it passes, record the drill waiting for its
    turn (blocking: SSH to the backup server). A point that fails its check is a failed
    drill, recorded and reported like one that failed later. Busy when the system is
    being restored (or drilled), NotFound for an unknown system."""
    zone = c.settings.timezone
    with c.sessions() as session:
        access = system_access(session, code, zone)
        refuse_if_busy(session, access.system_id)
    started = c.clock()
    person_id = actor.person_id if actor is not None else None
    name = actor.name if actor is not None else audit.SYSTEM_ACTOR
    try:
        points = list_backups(access)
        if not points:
            raise RestoreError("Tidak ada titik backup untuk diuji di server backup.")
        report = run_check(access, points[0].name, c.clock())
    except RestoreError as exc:
        return _failed_early(c, access.system_id, access.code, access.name, None, started,
                             person_id, name, exc.message)
    with c.unit_of_work() as session:
        check = record_check(session, access, report, started_at=started, now=c.clock(),
                             actor_id=person_id, actor_name=name, actor_role="tim")
        check_id = check.id
    if report.verdict is Verdict.FAILED:
        failed = [f"{i.name}: {i.detail}" for i in report.items if i.verdict is Verdict.FAILED]
        return _failed_early(c, access.system_id, access.code, access.name, check_id, started,
                             person_id, name, "Backup tidak lulus pemeriksaan (langkah 4): "
                             + "; ".join(failed))
    with c.unit_of_work() as session:
        refuse_if_busy(session, access.system_id)  # a restore may have begun meanwhile
        run = RestoreRun(system_id=access.system_id, backup_check_id=check_id,
                         started_by=person_id, lock_key=access.system_id, status="queued",
                         phase="", started_at=c.clock(), phases="[]", verification="{}",
                         uid=uuid.uuid4().hex, kind=DRILL)
        session.add(run)
        try:
            session.flush()
        except IntegrityError:
            raise Busy("Restore atau uji lain untuk sistem ini baru saja dimulai.") from None
        audit.append_event(session, action="drill_started", now=c.clock(), actor_id=person_id,
                           actor_name=name, actor_role="tim",
                           data={"run_id": run.id, "system": access.code,
                                 "point": report.point, "check_id": check_id})
        return Prepared(run.id, run.uid or "", access.code, access.name, report.point, True)


def _failed_early(c: Container, system_id: int, code: str, name: str, check_id: int | None,
                  started: datetime, person_id: int | None, actor_name: str,
                  reason: str) -> Prepared:
    now = c.clock()
    with c.unit_of_work() as session:
        run = RestoreRun(system_id=system_id, backup_check_id=check_id, started_by=person_id,
                         lock_key=None, status="failed", phase="", started_at=started,
                         finished_at=now, phases="[]", verification="{}",
                         uid=uuid.uuid4().hex, kind=DRILL,
                         error=reason + " Data live tidak disentuh.")
        session.add(run)
        session.flush()
        audit.append_event(session, action="drill_failed", now=now, actor_id=person_id,
                           actor_name=actor_name, actor_role="tim", note=reason,
                           data={"run_id": run.id, "system": code})
        return Prepared(run.id, run.uid or "", code, name, "", False, reason)


def due_drills(c: Container) -> list[str]:
    """Systems whose scheduled drill is due: past the office's drill hour, and no drill of
    theirs begun within their `drill_every_days` (a cancelled one does not count), and
    nothing holding them now."""
    now = c.clock()
    local = now.astimezone(c.settings.timezone)
    if local.time() < c.office.watch.drill_at:
        return []
    due = []
    with c.sessions() as session:
        systems = session.execute(select(System).where(
            System.active.is_(True), System.drill_every_days.is_not(None),
            System.backup_server_id.is_not(None)).order_by(System.code)).scalars().all()
        for system in systems:
            assert system.drill_every_days is not None
            since = now - timedelta(days=system.drill_every_days)
            recent = session.execute(select(RestoreRun.id).where(
                RestoreRun.system_id == system.id, RestoreRun.kind == DRILL,
                RestoreRun.status != "cancelled", RestoreRun.started_at > since).limit(1)
            ).first()
            if recent is None and holder(session, system.id) is None:
                due.append(system.code)
    return due


def waiting_drills(c: Container) -> list[tuple[int, str]]:
    """Drills waiting their turn (id, uid): kept in line by the bot, since a crash between
    recording one and putting it in the queue would otherwise leave it waiting for ever."""
    with c.sessions() as session:
        rows = session.execute(select(RestoreRun.id, RestoreRun.uid).where(
            RestoreRun.kind == DRILL, RestoreRun.status == "queued")).all()
    return [(run_id, uid or "") for run_id, uid in rows]


def unreported(c: Container) -> list[int]:
    """Drills that ended (sealed) and whose report or word has not gone out yet."""
    with c.sessions() as session:
        rows = session.execute(select(RestoreRun).where(
            RestoreRun.kind == DRILL, RestoreRun.finished_at.is_not(None),
            RestoreRun.lock_key.is_(None)).order_by(RestoreRun.id)).scalars().all()
        return [r.id for r in rows if "laporan" not in json.loads(r.verification or "{}")]


def report_drill(c: Container, run_id: int) -> int | None:
    """Issue the drill's report and send it to the team group (a failed drill as an alert;
    a cancelled one only said). The document's id, None for a cancelled drill."""
    now, zone = c.clock(), c.settings.timezone
    team = c.office.team_chat_id
    with c.sessions() as session:
        run = session.get(RestoreRun, run_id)
        assert run is not None and run.kind == DRILL
        if "laporan" in json.loads(run.verification or "{}"):
            return None
        system = session.get(System, run.system_id)
        assert system is not None
        if run.status == "cancelled":
            facts = None
        else:
            facts = _facts(session, run, system)
            person = session.get(Person, run.started_by) if run.started_by else None
            signer = official(person) or Official(audit.SYSTEM_ACTOR, "Tim Teknis (JFT)")
            seq, digest = audit.head_anchor(session)
    if facts is None:
        with c.unit_of_work() as session:
            run = session.get(RestoreRun, run_id)
            assert run is not None
            _mark(run, {"laporan": None})
            enqueue(session, key=f"drill-report:{run_id}", chat_id=team, kind="drill",
                    text=render_text("chat/drill_cancelled.txt.j2", zone, run=run,
                                     system=system), now=now)
        return None
    number = office_number(c, DRILL_KIND, now)
    pdf, verification = lay_out(c, render_drill_pdf, facts, number=number, signer=signer,
                                anchor=(seq, digest), now=now)
    with c.unit_of_work() as session:
        run = session.get(RestoreRun, run_id)
        assert run is not None
        document = issue_document(session, kind=DRILL_KIND, content=pdf,
                                  folder=c.settings.data_dir / "documents", now=now,
                                  number=number, actor_name=audit.SYSTEM_ACTOR,
                                  code=verification, issuer=c.office.stationery.office.name,
                                  signer=signer)
        _mark(run, {"laporan": document.id})
        enqueue(session, key=f"drill-report:{run_id}", chat_id=team, kind="drill",
                text=render_text("chat/drill_result.txt.j2", zone, drill=facts,
                                 number=number, code=verification),
                now=now, attachment=Attachment(document.file_path,
                                               f"laporan-uji-{system.code}-{run_id}.pdf"))
        return document.id


def _mark(run: RestoreRun, values: dict[str, Any]) -> None:
    run.verification = json.dumps({**json.loads(run.verification or "{}"), **values},
                                  ensure_ascii=False)


def _facts(session: Session, run: RestoreRun, system: System) -> DrillReport:
    check = session.get(BackupCheck, run.backup_check_id) if run.backup_check_id else None
    result = json.loads(check.result) if check is not None else {}
    person = session.get(Person, run.started_by) if run.started_by else None
    verified = json.loads(run.verification or "{}").get("shadow") or {}
    lines: list[str] = []
    if "tables" in verified:
        tables = verified["tables"]
        lines.append(f"{len(tables)} tabel, {sum(tables.values())} baris di salinan "
                     "sementara" + (", sama dengan manifest backup"
                                    if verified.get("compared_with_manifest") else "") + ".")
        lines.extend(f"{name}: {rows} baris" for name, rows in sorted(tables.items())[:40])
    if "files" in verified:
        lines.append(f"{verified['files']} berkas, digest pohon "
                     f"{str(verified.get('tree_sha256', ''))[:16]}..."
                     + (", sama dengan manifest backup"
                        if verified.get("compared_with_manifest") else "") + ".")
    return DrillReport(
        run.id, f"{system.name} ({system.code})", system.agency.name, system.recipe,
        check.point if check is not None else "-", check.point_time if check else None,
        int(result.get("size") or 0), run.started_at, run.finished_at or run.started_at,
        person.name if person is not None else "jadwal uji Pulih",
        run.status == "succeeded",
        run.error or json.loads(run.verification or "{}").get("said") or _SUCCESS,
        _steps(json.loads(run.phases or "[]")),
        tuple(f"{i['name']}: {i['detail']}" for i in result.get("items", [])),
        tuple(lines),
        "tidak dijalankan: aplikasi di server tujuan membaca data live, bukan salinan "
        "sementara uji ini." if system.health_url else "tidak ada alamat pemeriksaan "
        "kesehatan aplikasi di inventaris.")


_SUCCESS = ("Backup dipulihkan ke salinan sementara dan terverifikasi, lalu salinan itu "
            "dihapus. Data live tidak disentuh.")


def _steps(phases: list[dict[str, Any]]) -> tuple[DrillStep, ...]:
    """Each phase the drill went through, how long it took and how it ended."""
    began: dict[str, datetime] = {}
    steps: dict[str, DrillStep] = {}
    for entry in phases:
        name, status = entry["phase"], entry["status"]
        if name not in {p.value for p in Phase}:
            continue
        at = datetime.fromisoformat(entry["at"])
        label = PHASE_LABELS[Phase(name)]
        if status == "started":
            began[name] = at
            steps.setdefault(name, DrillStep(label, None, "-"))
        elif status in ("done", "failed") and name in began:
            steps[name] = DrillStep(label, at - began[name],
                                    "selesai" if status == "done" else "gagal")
    return tuple(steps.values())
