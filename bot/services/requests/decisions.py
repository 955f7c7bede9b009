"""A decision taken in chat: the transition and its notifications, in one transaction."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.db.models import Person, Request
from bot.render import render_text
from bot.services.requests.notify import notify_move
from bot.services.requests.records import apply_action, ensure_allowed, get_request
from bot.services.restores.teamwork import notify_agency
from bot.workflow.refusals import AlreadyDecided
from bot.workflow.rules import Actor
from bot.workflow.sop import Action


def decidable(session: Session, request_id: int, version: int, actor: Actor, action: Action,
              now: datetime, zone: ZoneInfo) -> str:
    """The request's ticket, if a card of `version` could still be decided by `actor`
    (refused otherwise): asked before a reason is typed, so no one types in vain."""
    ensure_allowed(session, request_id, actor, action, now, zone)
    request = get_request(session, request_id)
    if request.version != version:
        raise AlreadyDecided("Kartu ini sudah diproses atau usang. Tidak ada yang diubah.")
    return request.ticket


def decide(session: Session, request_id: int, actor: Actor, action: Action, now: datetime,
           zone: ZoneInfo, team_chat_id: int, *, version: int, target_id: int | None = None,
           reason: str | None = None, instruction: str | None = None) -> Request:
    """Apply `action` if the card the actor saw (`version`) is still current, and enqueue
    what the people concerned are told; a Refusal changes nothing."""
    request = apply_action(session, request_id, actor, action, now, zone, reason=reason,
                           target_id=target_id, expected_version=version,
                           data={"instruksi": instruction} if instruction else None)
    by = actor.name
    if action is Action.RATIFY:
        # The letter goes out at once, sent by the team (step 7) as the record says, on
        # the Kepala Bidang's ratification: both names, as recorded.
        request = notify_agency(session, request, now, zone)
        author = session.get(Person, request.report_author_id or request.executor_id or 0)
        if author is not None:
            by = render_text("chat/notified_by.txt.j2", zone, sender=author.name,
                             ratifier=actor.name).strip()
    # Only a disposition names its target in the note (an assignment's note is its
    # instruction).
    target = session.get(Person, target_id) \
        if action is Action.DISPOSE and target_id is not None else None
    note = decision_note(action, reason, instruction, target.name if target else None)
    notify_move(session, request, now, zone, team_chat_id, actor_name=by, note=note)
    return request


def decision_note(action: Action, reason: str | None, instruction: str | None,
                  target_name: str | None) -> str:
    """What the people told read under the decision: the instruction an assignment
    carries, then the reason typed; for a disposition without a reason, to whom."""
    note = (reason or "").strip()
    if instruction and action is Action.ASSIGN:
        note = f"{instruction}. {note}" if note else instruction
    if action is Action.DISPOSE and target_name and not note:
        note = render_text("chat/disposed_to.txt.j2", ZoneInfo("UTC"), name=target_name).strip()
    return note
