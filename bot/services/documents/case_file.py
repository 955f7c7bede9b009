"""A request's case file for its documents: what was recorded, as `letters.facts`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import (
    AuditEvent,
    BackupCheck,
    BackupServer,
    Deadline,
    Person,
    Request,
    RestoreRun,
)
from bot.services.requests.records import SCOPE_LABELS, Scope
from bot.services.restores import AGAIN
from bot.workflow.sop import STEPS, Action
from letters.facts import BackupSource, Case, Check, Hop, Official, Party, Phase
from restore.engine import PHASE_LABELS

RECIPE_LABELS = {"mariadb": "Basis data MariaDB", "postgresql": "Basis data PostgreSQL",
                 "files": "Berkas aplikasi"}
CHECK_STATUS = {"passed": "lulus", "warning": "lulus dengan peringatan", "failed": "gagal"}
RUN_STATUS = {"succeeded": "Berhasil", "failed": "Gagal", "cancelled": "Dibatalkan",
              "running": "Sedang berjalan", "interrupted": "Terputus"}
_PHASE_NAMES = {phase.value: label for phase, label in PHASE_LABELS.items()}
_HOP_ACTIONS = {Action.DISPOSE.value, Action.ASSIGN.value, Action.RETURN.value,
                Action.RETURN_REPORT.value}


_TITLES = {"kadis": "Kepala Dinas", "kabid": "Kepala Bidang", "tim": "Pranata Komputer"}


def official(person: Person | None, acting: str = "") -> Official | None:
    if person is None:
        return None
    roles = {r.role for r in person.roles}
    jabatan = person.jabatan or next(
        (title for role, title in _TITLES.items() if role in roles), "Pegawai")
    if acting:  # "Plh. Kepala Dinas (menggantikan ...)": print the acting position
        jabatan = acting.split(" (", 1)[0]
    return Official(person.name, jabatan, person.pangkat, person.nip)


def _hop(session: Session, event: AuditEvent, team_label: str) -> Hop:
    data: dict[str, Any] = json.loads(event.data)
    sender = session.get(Person, event.actor_id) if event.actor_id else None
    sender_label = event.acting.split(" (", 1)[0] if event.acting else (
        sender.jabatan if sender and sender.jabatan else event.actor_name)
    target = session.get(Person, data["kepada_id"]) if data.get("kepada_id") else None
    if event.action == Action.ASSIGN.value:
        receiver = f"{target.name} ({target.jabatan})" if target else team_label
        instruction = data.get("instruksi") or "Laksanakan restore, laporkan hasil"
    elif event.action == Action.DISPOSE.value:
        receiver = target.jabatan or target.name if target else "Kepala Bidang"
        instruction = data.get("instruksi") or "Proses lebih lanjut"
    else:
        receiver = "Pengirim sebelumnya"
        instruction = "Dikembalikan"
    due = session.execute(
        select(Deadline.due_at).where(Deadline.request_id == event.request_id,
                                      Deadline.started_at == event.occurred_at)
        .order_by(Deadline.id.desc())).scalars().first()
    return Hop(sender_label, receiver, str(instruction), event.note, event.occurred_at, due,
               event.actor_name)


def _backup(session: Session, request: Request, run: RestoreRun | None) -> BackupSource | None:
    query = select(BackupCheck).where(BackupCheck.request_id == request.id)
    if run is not None and run.backup_check_id is not None:
        query = select(BackupCheck).where(BackupCheck.id == run.backup_check_id)
    check = session.execute(query.order_by(BackupCheck.id.desc())).scalars().first()
    if check is None:
        return None
    result: dict[str, Any] = json.loads(check.result)
    digests: dict[str, str] = result.get("digests") or {}
    server = request.system.backup_server_id
    server_row = session.get(BackupServer, server) if server else None
    return BackupSource(check.point, check.point_time, int(result.get("size") or 0),
                        ", ".join(f"{d} ({n})" for n, d in sorted(digests.items())),
                        server_row.name if server_row else "-", check.finished_at,
                        CHECK_STATUS.get(check.status, check.status))


def _phases(run: RestoreRun, executor: str) -> tuple[Phase, ...]:
    started: dict[str, datetime | None] = {}
    phases: list[Phase] = []
    for entry in json.loads(run.phases):
        name = entry["phase"]
        at = _parse_time(entry.get("at"))
        if entry["status"] == AGAIN:  # taken back after its worker stopped: the last
            started.clear()           # attempt, from a clean target, is the restore
            phases.clear()
        elif entry["status"] == "started":
            started[name] = at
        elif entry["status"] in ("done", "failed"):
            label = _PHASE_NAMES.get(name, name)
            result = ("Selesai" if entry["status"] == "done"
                      else f"Gagal: {entry.get('detail', '')}")
            phases.append(Phase(label, started.pop(name, None), at, result, executor))
    return tuple(phases)


def restore_began(run: RestoreRun) -> datetime:
    """When the run's last attempt began its work (its wait in the queue left out)."""
    first = next((p.started for p in _phases(run, "") if p.started is not None), None)
    return first or run.started_at


def _parse_time(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def _checks(run: RestoreRun) -> tuple[Check, ...]:
    return verification_checks(json.loads(run.verification or "{}"))


def verification_checks(verification: dict[str, Any]) -> tuple[Check, ...]:
    """What a run's verification found, as the report's and the chat's lines."""
    checks: list[Check] = []
    for key, where in (("shadow", "Salinan sementara"), ("live", "Data live")):
        part = verification.get(key) or {}
        tables = part.get("tables")
        if tables:
            method = ("Jumlah baris per tabel dibandingkan dengan manifest backup"
                      if part.get("compared_with_manifest") else "Jumlah baris per tabel")
            total = sum(int(v) for v in tables.values())
            checks.append(Check(f"{where}: tabel dan baris", method,
                                f"Sesuai: {len(tables)} tabel, {total} baris"))
        present = part.get("tables_present")
        if present:
            checks.append(Check(f"{where}: tabel", "Daftar tabel dibandingkan dengan salinan "
                                "sementara yang diverifikasi", f"Sesuai: {present} tabel"))
        files = part.get("files")
        if files:
            checks.append(Check(f"{where}: berkas", "Jumlah berkas dibandingkan",
                                f"Sesuai: {files} berkas"))
        health = part.get("health")
        if health:
            checks.append(Check("Layanan aplikasi", "HTTP dari server tujuan", str(health)))
    return tuple(checks)


def case_file(session: Session, request: Request, team_label: str = "Tim Teknis (JFT)") -> Case:
    """Everything recorded about `request` that its documents print."""
    events = session.execute(select(AuditEvent).where(AuditEvent.request_id == request.id)
                             .order_by(AuditEvent.seq)).scalars().all()
    hops = tuple(_hop(session, e, team_label) for e in events if e.action in _HOP_ACTIONS)
    run = session.execute(select(RestoreRun).where(RestoreRun.request_id == request.id)
                          .order_by(RestoreRun.id.desc())).scalars().first()
    executor = session.get(Person, request.executor_id) if request.executor_id else None
    kabid = session.get(Person, request.kabid_id) if request.kabid_id else None
    system = request.system
    requester = official(request.requester)
    assert requester is not None
    return Case(
        ticket=request.ticket,
        agency=Party(request.agency.name,
                     tuple(filter(None, request.agency.address.splitlines())),
                     code=request.agency.code),
        system_name=system.name, system_code=system.code, host=system.host,
        recipe=RECIPE_LABELS.get(system.recipe, system.recipe), database=system.database or "",
        app_dir=system.app_dir or "", scope=SCOPE_LABELS[Scope(request.scope)],
        recovery_point=request.recovery_point, reason=request.reason, impact=request.impact,
        contact=request.contact, requester=requester, letter_number=request.letter_number,
        letter_date=request.letter_date, received_at=request.created_at, hops=hops,
        backup=_backup(session, request, run),
        phases=_phases(run, executor.name if executor else "-") if run else (),
        checks=_checks(run) if run else (),
        status=RUN_STATUS.get(run.status, run.status) if run else "",
        restore_started=run.started_at if run else None,
        restore_finished=run.finished_at if run else None,
        mutu_baku_restore=STEPS[5].service_time, problems=run.error if run else "",
        reply_within=STEPS[8].service_time,
        executor=official(executor), ratifier=official(kabid),
    )
