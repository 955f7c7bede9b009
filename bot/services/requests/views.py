"""What the chat shows of the records, read in one session and handed out as plain values:
the handlers never hold a database session or walk the models themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.services.people.linking import redeem
from bot.services.requests.deadlines import open_deadline
from bot.services.requests.inbox import visible_request, waiting_on
from bot.services.requests.records import SCOPE_LABELS, Scope, get_request
from bot.services.requests.timeline import timeline
from bot.workflow.rules import Actor
from bot.workflow.sop import ACTION_LABELS, ROLE_LABELS, STATE_LABELS, State

_ROLES = {r.value: label for r, label in ROLE_LABELS.items()}
_ROLES["system"] = "Sistem"
_ACTIONS = {a.value: label for a, label in ACTION_LABELS.items()} | {
    "document_issued": "menerbitkan dokumen",
    "document_received": "mengunggah surat permohonan bertanda tangan",
    # What the SSH engine did, beside the SOP step the person took.
    "backup_check": "menjalankan pemeriksaan backup di server backup",
    "restore_started": "menjalankan restore lewat SSH",
    "restore_succeeded": "restore lewat SSH selesai, data live diganti",
    "restore_failed": "restore lewat SSH gagal (rinciannya pada tim teknis)",
    "restore_cancelled": "restore lewat SSH dibatalkan",
    "restore_rolled_back": "rollback lewat SSH selesai",
    "restore_interrupted": "restore terputus karena Pulih berhenti"}
# Events that are bookkeeping rather than steps people took.
_QUIET = frozenset({"number_allocated", "link_invited", "telegram_linked",
                    "rollback_copy_sealed"})


@dataclass(frozen=True)
class DeadlineView:
    step: int
    due_at: datetime


@dataclass(frozen=True)
class Linked:
    name: str
    roles: list[str]  # role values, sorted


def linked(session: Session, code: str, telegram_id: int, now: datetime) -> Linked:
    """Redeem a link code for this Telegram account: who it now is."""
    person = redeem(session, code, telegram_id, now)
    return Linked(person.name, sorted(r.role for r in person.roles))


def status_of(session: Session, actor: Actor, key: str, now: datetime,
              zone: ZoneInfo) -> dict[str, Any]:
    """/status: a request the actor may see, its steps against the Mutu Baku and what
    happened, as the template's values."""
    request = visible_request(session, actor, key)
    line = timeline(session, request, now, zone)
    deadline = open_deadline(session, request.id)
    return {"ticket": request.ticket, "filed_at": request.created_at,
            "agency": request.agency.name, "system": request.system.name,
            "state_label": STATE_LABELS[State(request.state)],
            "scope_label": SCOPE_LABELS[Scope(request.scope)], "steps": line.steps,
            "events": [(e.occurred_at, e.actor_name, _ROLES.get(e.actor_role, e.actor_role),
                        _ACTIONS.get(e.action, e.action.replace("_", " ")))
                       for e in line.events if e.action not in _QUIET],
            "deadline": DeadlineView(deadline.step, deadline.due_at) if deadline else None,
            "overdue": bool(deadline and deadline.due_at < now)}


def queue_of(session: Session, actor: Actor, now: datetime, zone: ZoneInfo
             ) -> list[tuple[str, str, str, str, datetime | None, list[str]]]:
    """/antrian: what waits on the actor, most urgent first (ticket, agency, system,
    state, due, what the actor may do)."""
    return [(w.request.ticket, w.request.agency.name, w.request.system.name,
             STATE_LABELS[State(w.request.state)], w.deadline.due_at if w.deadline else None,
             [ACTION_LABELS[a] for a in w.actions])
            for w in waiting_on(session, actor, now, zone)]


def run_header(session: Session, request_id: int, point: str, by: str) -> dict[str, str]:
    """The head of a restore's progress message."""
    request = get_request(session, request_id)
    return {"ticket": request.ticket, "system_name": request.system.name,
            "system_code": request.system.code, "point": point, "by": by}


def system_code(session: Session, request_id: int) -> str:
    return get_request(session, request_id).system.code
