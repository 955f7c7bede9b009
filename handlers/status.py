"""/status NOMOR (a request's timeline against the Mutu Baku) and /antrian (what waits
on me, most urgent first)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import ContextTypes

from bot.services.deadlines import open_deadline
from bot.services.inbox import visible_request, waiting_on
from bot.services.requests import SCOPE_LABELS, Scope
from bot.services.timeline import timeline
from bot.workflow.refusals import Refusal
from bot.workflow.rules import Actor
from bot.workflow.sop import ACTION_LABELS, ROLE_LABELS, STATE_LABELS, State
from handlers.common import actor_or_explain, in_session, text
from handlers.runtime import runtime


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = await actor_or_explain(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    if not context.args:
        await message.reply_text(text(context, "status_usage"))
        return
    key = context.args[0][:40]
    now = runtime(context).container.clock()
    try:
        values = await in_session(context, lambda s: _status(s, actor, key, now))
    except Refusal as refusal:
        await message.reply_text(refusal.message)
        return
    await message.reply_text(text(context, "status", now=now, **values))


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
_QUIET = frozenset({"number_allocated", "link_invited", "telegram_linked"})


def _status(session: Session, actor: Actor, key: str, now: datetime) -> dict[str, Any]:
    request = visible_request(session, actor, key)
    line = timeline(session, request, now)
    deadline = open_deadline(session, request.id)
    return {"r": request, "agency": request.agency.name, "system": request.system.name,
            "state_label": STATE_LABELS[State(request.state)],
            "scope_label": SCOPE_LABELS[Scope(request.scope)], "steps": line.steps,
            "events": [(e.occurred_at, e.actor_name, _ROLES.get(e.actor_role, e.actor_role),
                        _ACTIONS.get(e.action, e.action.replace("_", " ")))
                       for e in line.events if e.action not in _QUIET],
            "deadline": deadline, "overdue": bool(deadline and deadline.due_at < now)}


async def queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = await actor_or_explain(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    container = runtime(context).container
    now, zone = container.clock(), container.settings.timezone
    rows = await in_session(context, lambda s: [
        (w.request.ticket, w.request.agency.name, w.request.system.name,
         STATE_LABELS[State(w.request.state)], w.deadline.due_at if w.deadline else None,
         [ACTION_LABELS[a] for a in w.actions])
        for w in waiting_on(s, actor, now, zone)])
    await message.reply_text(text(context, "queue", rows=rows, now=now))
