"""Queueing a message: one row per message, written in the caller's unit of work (so it
commits with the change it reports), keyed so the same notice is never queued twice; and
pruning rows settled long ago."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage, Request
from bot.workflow.choices import Choice
from bot.workflow.sop import TERMINAL_STATES


@dataclass(frozen=True)
class Reply:
    """A direct answer to what a person just did, sent through the outbox like any
    notice: a new message (with buttons as (label, data) pairs, or asking for a typed
    reply), or a rewrite of one already shown (its text and buttons, or its buttons only).
    Rewrites are safe to repeat, so a crash mid-send never shows one twice."""

    text: str = ""
    keyboard: tuple[tuple[tuple[str, str], ...], ...] = ()
    edit: int | None = None  # the message id to rewrite
    markup_only: bool = False  # only the buttons of `edit` change (here: they go)
    force_reply: str | None = None  # ask for a typed answer, with this placeholder


def enqueue_reply(session: Session, *, key: str, chat_id: int, reply: Reply,
                  now: datetime, kind: str = "reply") -> bool:
    """Queue `reply` unless one with the same key exists; True if added."""
    payload: dict[str, Any] = {"text": fit(reply.text) if reply.text else ""}
    if reply.keyboard:
        payload["buttons"] = [[{"text": label, "data": data} for label, data in row]
                              for row in reply.keyboard]
    if reply.edit is not None:
        payload["edit"] = reply.edit
        if reply.markup_only:
            payload["markup_only"] = True
    if reply.force_reply is not None:
        payload["force_reply"] = reply.force_reply
    return _add(session, key, chat_id, kind, payload, now, None)


@dataclass(frozen=True)
class Attachment:
    """A file kept on disk (an issued document) sent with the message as its caption."""

    path: str
    filename: str


def enqueue(session: Session, *, key: str, chat_id: int, kind: str, text: str,
            now: datetime, buttons: list[list[Choice]] | None = None,
            request_id: int | None = None, attachment: Attachment | None = None) -> bool:
    """Add one notification unless one with the same key exists; True if added."""
    payload: dict[str, Any] = {"text": fit(text, MAX_CAPTION if attachment else MAX_TEXT)}
    if attachment is not None:
        payload["document"] = {"path": attachment.path, "filename": attachment.filename}
    if buttons:
        payload["buttons"] = [[choice.as_dict() for choice in row] for row in buttons]
    return _add(session, key, chat_id, kind, payload, now, request_id)


EMAIL = "email"  # the outbox channel of an e-mail (the other: "telegram")


def enqueue_email(session: Session, *, key: str, address: str, kind: str, subject: str,
                  text: str, now: datetime, attachments: tuple[Attachment, ...] = (),
                  request_id: int | None = None, decide_in_telegram: bool = False,
                  why: str = "only", since: datetime | None = None,
                  request_letter: bool = False) -> bool:
    """Queue one e-mail unless one with the same key exists; True if added. The files are
    read when it is sent, from Pulih's document folders only. `why` it goes by e-mail:
    "refused", "undelivered" or "unanswered" in Telegram since `since`, or "only" (the
    person has no Telegram). `request_letter`: the request's letter is attached too, as it
    stands when the e-mail goes (it may still be being made when a card is queued)."""
    payload: dict[str, Any] = {
        "subject": " ".join(subject.split())[:150], "text": text,
        "attachments": [{"path": a.path, "filename": a.filename} for a in attachments],
        "decide": decide_in_telegram, "why": why,
        "since": since.isoformat() if since else None,
        "request_letter": request_id if request_letter else None}
    return _add(session, key, 0, kind, payload, now, request_id, channel=EMAIL,
                address=address)


def _add(session: Session, key: str, chat_id: int, kind: str, payload: dict[str, Any],
         now: datetime, request_id: int | None, channel: str = "telegram",
         address: str | None = None) -> bool:
    exists = session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
                             ).first()
    if exists is not None:
        return False
    session.add(OutboxMessage(dedupe_key=key[:200], chat_id=chat_id, kind=kind,
                              payload=json.dumps(payload, ensure_ascii=False),
                              request_id=request_id, status="pending", attempts=0,
                              next_attempt_at=now, created_at=now, last_error="",
                              channel=channel, address=address))
    session.flush()
    return True


MAX_TEXT = 4096  # Telegram's limit for one message
MAX_CAPTION = 1024  # and for a document's caption
CUT_NOTE = "\n[...] (terpotong; isi lengkap ada di /status dan surat permohonan)"


def fit(text: str, limit: int = MAX_TEXT) -> str:
    """The text within Telegram's limit; a long reason is cut with a pointer to the rest."""
    if len(text) <= limit:
        return text
    return text[:limit - len(CUT_NOTE)].rstrip() + CUT_NOTE


OUTBOX_KEPT = timedelta(days=90)


def prune_outbox(session: Session, now: datetime, kept: timedelta = OUTBOX_KEPT) -> int:
    """Delete messages settled (sent, or given up) more than `kept` ago that belong to no
    request or to a finished one: their keys can no longer come back, so nothing is sent
    twice, and the table stops growing with the years. Returns how many went."""
    finished = select(Request.id).where(Request.state.in_([s.value for s in TERMINAL_STATES]))
    doomed = delete(OutboxMessage).where(
        OutboxMessage.status.not_in(("pending", "sending")),
        OutboxMessage.created_at < now - kept,
        or_(OutboxMessage.request_id.is_(None), OutboxMessage.request_id.in_(finished)))
    return int(session.execute(doomed).rowcount or 0)  # type: ignore[attr-defined]
