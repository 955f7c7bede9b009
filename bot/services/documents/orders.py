"""Ordering a request's documents in a decision's transaction (made later by
`bot.services.documents.paperwork`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import DocumentJob


@dataclass(frozen=True)
class Order:
    """One document for a request, and the chats it goes to."""

    kind: str
    chats: tuple[int, ...]
    draft: bool = False
    source: str | None = None  # a file to record as the document (an uploaded letter)
    kept: bool = False  # made for the records even when no chat is to receive it
    emails: tuple[str, ...] = ()  # people without Telegram who receive it by e-mail


def order_documents(session: Session, request_id: int, orders: list[Order], *, key: str,
                    now: datetime, actor_id: int | None = None) -> None:
    """Ask for documents; a second order under the same key is ignored."""
    for order in orders:
        chats: list[int | str] = [c for c in order.chats if c]
        chats += [address for address in order.emails if address]
        dedupe = f"{key}:{order.kind}{':konsep' if order.draft else ''}"
        if (not chats and not order.kept) or session.execute(
                select(DocumentJob.id).where(DocumentJob.dedupe_key == dedupe)).first():
            continue
        session.add(DocumentJob(dedupe_key=dedupe[:200], request_id=request_id,
                                kind=order.kind, draft=order.draft, actor_id=actor_id,
                                recipients=json.dumps(chats), source_path=order.source,
                                status="pending", attempts=0,
                                next_attempt_at=now, created_at=now, file_path="",
                                last_error=""))
    session.flush()
