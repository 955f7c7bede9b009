"""What a person is in the middle of in one chat: the /mohon form's answers so far, a
decision waiting for its typed reason, a restore waiting for the system's name. One row
per chat, person and kind, written in the same unit of work as the question it asks, so
a restart (or a crash) resumes where the person was; past its expiry it is forgotten.
What the person types goes to the most recent one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.models import Conversation

FORM = "mohon"  # the /mohon form
REASON = "reason"  # a decision's typed reason (or a note for the team)
CONFIRM = "confirm"  # the system's name that confirms a restore, or a rollback's reason
INCIDENT = "insiden"  # the incident's code that confirms restoring all its systems
DETAIL = "keterangan"  # what an agency adds to a request opened on its behalf

KEPT = {FORM: timedelta(minutes=30), REASON: timedelta(hours=2),
        CONFIRM: timedelta(minutes=15), INCIDENT: timedelta(minutes=15),
        DETAIL: timedelta(hours=2)}


@dataclass
class Pending:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def current(session: Session, chat_id: int, user_id: int, now: datetime,
            kind: str | None = None) -> Pending | None:
    """What the person is in the middle of here (of `kind`, or the most recent), or None;
    expired ones are forgotten on the way."""
    rows = session.execute(select(Conversation).where(
        Conversation.chat_id == chat_id, Conversation.user_id == user_id)
        .order_by(Conversation.updated_at.desc())).scalars().all()
    for row in rows:
        if row.expires_at <= now:
            session.delete(row)
            continue
        if kind is None or row.kind == kind:
            data = json.loads(row.data)
            return Pending(row.kind, data if isinstance(data, dict) else {})
    return None


def remember(session: Session, chat_id: int, user_id: int, pending: Pending,
             now: datetime) -> None:
    """Keep `pending` (replacing one of its kind) until its kind's expiry from now."""
    row = session.get(Conversation, (chat_id, user_id, pending.kind))
    if row is None:
        row = Conversation(chat_id=chat_id, user_id=user_id, kind=pending.kind)
        session.add(row)
    row.data = json.dumps(pending.data, ensure_ascii=False)
    row.expires_at = now + KEPT[pending.kind]
    row.updated_at = now


def forget(session: Session, chat_id: int, user_id: int, kind: str) -> None:
    session.execute(delete(Conversation).where(Conversation.chat_id == chat_id,
                                               Conversation.user_id == user_id,
                                               Conversation.kind == kind))


def prune(session: Session, now: datetime) -> int:
    """Delete conversations past their expiry; returns how many went."""
    gone = session.execute(delete(Conversation).where(Conversation.expires_at <= now))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]
