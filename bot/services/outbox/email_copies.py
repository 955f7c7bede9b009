"""E-mail as the second channel: which Telegram messages to a person are also sent to their
e-mail address (from the inventory), and when. A message Telegram refused (the person
blocked the bot, a deleted account) goes at once; one not delivered, or a card not acted
on, within the wait (PULIH_MAIL_AFTER minutes, or half the Mutu Baku of the step the
request was at when it was queued; an hour for a message outside the SOP's steps) goes
then. Each copy is an outbox row keyed by the message it copies: written once, sent once,
whatever restarts come between. Decisions stay in Telegram, where identity is bound: a
card's e-mail says what waits and where to decide it, and carries the request letter."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, literal, or_, select
from sqlalchemy.orm import Session, aliased

from bot.db.models import Deadline, Document, DocumentJob, OutboxMessage, Person, Request
from bot.services.outbox.queue import Attachment, enqueue_email
from bot.workflow.sop import STEPS

OUTSIDE_STEPS = timedelta(hours=1)  # the wait of a message that belongs to no open step
# No message waits less than half the shortest Mutu Baku.
SHORTEST_WAIT = min(step.service_time for step in STEPS.values()) / 2
LOOK_BACK = timedelta(days=7)  # messages older than this get no copy any more
REFUSED = ("blocked", "failed")
# Messages that are no notice of their own: an answer to what the person just did (they
# are at the chat), a rewrite of a card, a prompt to type.
NOT_COPIED = ("reply",)


def plan_copies(session: Session, now: datetime, after: timedelta | None = None) -> int:
    """Queue the e-mail copies due now; returns how many were queued."""
    copy = aliased(OutboxMessage)
    rows = session.execute(
        select(OutboxMessage, Person).join(Person, and_(
            Person.telegram_id == OutboxMessage.chat_id, Person.email.is_not(None),
            Person.active.is_(True)))
        .outerjoin(copy, copy.dedupe_key == literal("email:") + cast(OutboxMessage.id, String))
        .where(OutboxMessage.channel == "telegram", OutboxMessage.chat_id > 0,
               OutboxMessage.kind.not_in(NOT_COPIED), OutboxMessage.created_at >= now - LOOK_BACK,
               copy.id.is_(None),
               # Only what may need a copy now: refused, or past the shortest wait and
               # either still undelivered or a card (delivered notices never do).
               or_(OutboxMessage.status.in_(REFUSED), and_(
                   OutboxMessage.created_at <= now - (after or SHORTEST_WAIT),
                   or_(OutboxMessage.status.in_(("pending", "sending")),
                       and_(OutboxMessage.status == "sent",
                            OutboxMessage.payload.contains('"buttons"'))))))
        .order_by(OutboxMessage.id)).all()
    queued = 0
    for row, person in rows:
        payload = json.loads(row.payload)
        if "edit" in payload or "force_reply" in payload or not person.email:
            continue
        why = _why(session, row, payload, now, after)
        if why is None:
            continue
        queued += enqueue_email(
            session, key=f"email:{row.id}", address=person.email, kind=row.kind,
            subject=_subject(payload), text=payload.get("text", ""), now=now,
            attachments=_attachments(payload), request_id=row.request_id,
            decide_in_telegram=bool(payload.get("buttons")) and why != "refused", why=why,
            since=row.created_at, request_letter=bool(payload.get("buttons")))
    return queued


def mail_notice(session: Session, *, key: str, address: str, kind: str, text: str,
                card: bool, request_id: int | None, now: datetime) -> bool:
    """A notice for someone without Telegram, by e-mail alone; a card's e-mail says that
    deciding needs Telegram, and carries the request letter it is about."""
    return enqueue_email(session, key=key, address=address, kind=kind,
                         subject=_subject({"text": text}), text=text, now=now,
                         request_id=request_id, decide_in_telegram=card, request_letter=card)


def _why(session: Session, row: OutboxMessage, payload: dict[str, Any], now: datetime,
         after: timedelta | None) -> str | None:
    """Why this message needs its e-mail copy now, or None."""
    if row.status in REFUSED:
        return "refused"
    if row.created_at + (after or _wait(session, row)) > now:
        return None
    if row.status in ("pending", "sending"):
        return "undelivered"
    if row.status == "sent" and payload.get("buttons") and row.request_id is not None:
        version = _card_version(payload)
        request = session.get(Request, row.request_id)
        if request is not None and version is not None and request.version == version:
            return "unanswered"
    return None


def _wait(session: Session, row: OutboxMessage) -> timedelta:
    """Half the Mutu Baku of the step the message's request was at when it was queued."""
    if row.request_id is None:
        return OUTSIDE_STEPS
    step = session.execute(select(Deadline).where(
        Deadline.request_id == row.request_id, Deadline.started_at <= row.created_at)
        .order_by(Deadline.started_at.desc(), Deadline.id.desc())).scalars().first()
    if step is None or (step.closed_at is not None and step.closed_at < row.created_at):
        return OUTSIDE_STEPS
    return (step.due_at - step.started_at) / 2


def _card_version(payload: dict[str, Any]) -> int | None:
    """The request's version the card's choices were made for."""
    for row in payload.get("buttons", []):
        for choice in row:
            if "version" in choice:
                return int(choice["version"])
    return None


def _subject(payload: dict[str, Any]) -> str:
    first = next((line.strip() for line in str(payload.get("text", "")).splitlines()
                  if line.strip()), "Pemberitahuan")
    return f"[Pulih] {first}"


def _attachments(payload: dict[str, Any]) -> tuple[Attachment, ...]:
    """The message's own document, if it carries one."""
    document = payload.get("document")
    if document is None:
        return ()
    return (Attachment(str(document["path"]), str(document["filename"])),)


def request_letter(session: Session, request_id: int) -> tuple[Attachment | None, bool]:
    """The request's letter as it stands now (as issued, or as the agency uploaded it),
    and whether one is still being made (then an e-mail that carries it waits for it)."""
    letter = session.execute(select(Document).where(
        Document.request_id == request_id, Document.kind == "surat_permohonan")
        .order_by(Document.id.desc())).scalars().first()
    if letter is None:
        making = session.execute(select(DocumentJob.id).where(
            DocumentJob.request_id == request_id, DocumentJob.kind == "surat_permohonan",
            DocumentJob.status == "pending")).first()
        return None, making is not None
    request = session.get(Request, request_id)
    return Attachment(letter.file_path,
                      f"surat-permohonan-{request.ticket if request else request_id}.pdf"), False
