"""Every update received, written before the channel is told it arrived (before the next
poll confirms it, or before the webhook answers): after a crash the updates that were
received but never handled are found here, and an update the channel delivers again is
recognised and not handled twice."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.db.models import InboxUpdate
from bot.services.people.admin import seen

KEPT = timedelta(days=2)  # longer than any channel keeps an unconfirmed update


@dataclass(frozen=True)
class Arrival:
    update_id: int
    kind: str
    payload: dict[str, Any]


def receive(session: Session, arrivals: Iterable[Arrival], now: datetime) -> set[int]:
    """Record the arrivals; returns the ids that are new (the others came before)."""
    wanted = {a.update_id: a for a in arrivals}
    if not wanted:
        return set()
    known = set(session.execute(select(InboxUpdate.update_id)
                                .where(InboxUpdate.update_id.in_(wanted))).scalars())
    for update_id, arrival in wanted.items():
        if update_id not in known:
            session.add(InboxUpdate(update_id=update_id, kind=arrival.kind,
                                    payload=json.dumps(arrival.payload, ensure_ascii=False),
                                    state="new", received_at=now))
    seen(session, {sender for a in wanted.values() if (sender := _sender(a.payload))}, now)
    return set(wanted) - known


def _sender(payload: dict[str, Any]) -> int | None:
    """The Telegram user an update came from, if any."""
    for part in ("message", "edited_message", "callback_query"):
        found = payload.get(part)
        if isinstance(found, dict) and isinstance(found.get("from"), dict):
            user = found["from"].get("id")
            return user if isinstance(user, int) else None
    return None


def handled(session: Session, update_ids: Iterable[int]) -> None:
    ids = list(update_ids)
    if ids:
        session.execute(update(InboxUpdate).where(InboxUpdate.update_id.in_(ids))
                        .values(state="done"))


def unhandled(session: Session) -> list[Arrival]:
    """Updates received by an earlier process that it never finished handling, oldest
    first; they are marked handled now (each is looked at after a crash once, never in a
    loop, even if it was what crashed the bot)."""
    rows = session.execute(select(InboxUpdate).where(InboxUpdate.state == "new")
                           .order_by(InboxUpdate.update_id)).scalars().all()
    found = [Arrival(r.update_id, r.kind, json.loads(r.payload)) for r in rows]
    handled(session, [a.update_id for a in found])
    return found


def prune(session: Session, now: datetime) -> int:
    gone = session.execute(delete(InboxUpdate).where(InboxUpdate.state == "done",
                                                     InboxUpdate.received_at < now - KEPT))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]
