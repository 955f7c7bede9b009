"""A request walked to step 6 with the records each step leaves: dispositions, a passed
backup check and a restore run with its phases and verification, as the engine writes them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.db.models import BackupCheck, Request, RestoreRun, System
from bot.services.people.actors import actor_by_nip
from bot.services.requests.records import NewRequest, Scope, apply_action, submit_request
from bot.workflow.sop import Action
from tests.support.clock import WITA, month_year
from tests.support.office import NIPS, NOW

SHA = "5d41402abc4b2a76b9719d911017c592aa5d41402abc4b2a76b9719d911017c5"
# The agency's own letter, numbered this month; the point checked, taken 11 hours earlier.
AGENCY_LETTER = f"B-77/DISDIKBUD/000.6/{month_year()}"
POINT_TAKEN = NOW - timedelta(minutes=660)
POINT = POINT_TAKEN.astimezone(WITA).strftime("%Y-%m-%dT%H%M")


def _at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def walk_to_check(session: Session,
                  reason: str = "Tabel siswa rusak setelah pembaruan.",
                  letter_number: str | None = AGENCY_LETTER) -> tuple[Request, BackupCheck]:
    """A request of portal-pendidikan through step 4: its backup point checked and passed."""
    requester = actor_by_nip(session, NIPS["requester"])
    kadis = actor_by_nip(session, NIPS["kadis"])
    kabid = actor_by_nip(session, NIPS["kabid_a"])
    tim = actor_by_nip(session, NIPS["tim_exec"])
    request = submit_request(session, requester, NewRequest(
        "portal-pendidikan", Scope.DATABASE, reason, impact="Portal tidak dapat dibuka.",
        contact="Andi Saputra 0812-0000-1111", letter_number=letter_number),
        NOW, WITA)
    apply_action(session, request.id, kadis, Action.DISPOSE, _at(10), WITA,
                 target_id=kabid.person_id, reason="Mohon segera ditangani.")
    apply_action(session, request.id, kabid, Action.ASSIGN, _at(25), WITA,
                 reason="Gunakan backup malam terakhir.")
    system = session.get(System, request.system_id)
    assert system is not None
    check = BackupCheck(
        request_id=request.id, system_id=system.id, point=POINT,
        point_time=_at(-660), checked_by=tim.person_id, started_at=_at(40), finished_at=_at(42),
        status="passed", result=json.dumps({
            "point": POINT, "taken_at": _at(-660).isoformat(), "size": 52_428_800,
            "verdict": "passed", "items": [], "digests": {"db.sql.gz": SHA}, "manifest": {}}))
    session.add(check)
    session.flush()
    apply_action(session, request.id, tim, Action.CHECK_BACKUP, _at(42), WITA,
                 data={"check_id": check.id})
    return request, check


def walk_to_report(session: Session,
                   reason: str = "Tabel siswa rusak setelah pembaruan.",
                   letter_number: str | None = AGENCY_LETTER) -> Request:
    request, check = walk_to_check(session, reason, letter_number)
    tim = actor_by_nip(session, NIPS["tim_exec"])
    system = session.get(System, request.system_id)
    assert system is not None
    phases = []
    for index, name in enumerate(("preflight", "transfer", "apply", "verify", "swap",
                                  "postcheck")):
        phases.append({"phase": name, "status": "started", "at": _at(50 + 2 * index).isoformat(),
                       "detail": ""})
        phases.append({"phase": name, "status": "done", "at": _at(51 + 2 * index).isoformat(),
                       "detail": ""})
    run = RestoreRun(request_id=request.id, system_id=system.id, backup_check_id=check.id,
                     started_by=tim.person_id, lock_key=None, status="succeeded",
                     phase="postcheck", started_at=_at(50), finished_at=_at(62),
                     phases=json.dumps(phases), verification=json.dumps({
                         "shadow": {"tables": {"siswa": 1200, "guru": 80},
                                    "compared_with_manifest": True},
                         "live": {"tables": {"siswa": 1200, "guru": 80},
                                  "compared_with_manifest": True, "health": "HTTP 200"}}))
    session.add(run)
    session.flush()
    apply_action(session, request.id, tim, Action.START_RESTORE, _at(50), WITA)
    apply_action(session, request.id, tim, Action.FINISH_RESTORE, _at(62), WITA)
    apply_action(session, request.id, tim, Action.VERIFY, _at(62), WITA)
    apply_action(session, request.id, tim, Action.SUBMIT_REPORT, _at(70), WITA)
    session.refresh(request)
    return request
