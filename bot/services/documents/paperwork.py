"""Documents a decision calls for: ordered in the decision's own transaction, made by a
job afterwards (rendering and signing take a second or two), and handed to the outbox
in the transaction that records the document. A crash anywhere in between loses none
and doubles none."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import Document, DocumentJob, Request
from bot.render import render_text
from bot.services.documents.letters import (
    configured_signer,
    draft_letter,
    issue_letter,
    register_request_letter,
)
from bot.services.outbox.queue import Attachment, enqueue, enqueue_email
from bot.services.people.officials import role_holders
from bot.workflow.sop import Role
from letters.kinds import ALL_KINDS, KINDS

log = logging.getLogger("pulih.paperwork")
MAX_ATTEMPTS = 5


def pending_jobs(c: Container, now: datetime) -> list[int]:
    with c.sessions() as session:
        return list(session.execute(
            select(DocumentJob.id).where(DocumentJob.status == "pending",
                                         DocumentJob.next_attempt_at <= now)
            .order_by(DocumentJob.id).limit(10)).scalars())


def make_documents(c: Container) -> int:
    """Make every document that is due (blocking: render, sign); how many were made."""
    made = 0
    for job_id in pending_jobs(c, c.clock()):
        try:
            _make(c, job_id)
            made += 1
        except Exception as exc:  # kept for a retry; the admins hear of the last failure
            log.exception("dokumen untuk pekerjaan %s gagal dibuat", job_id)
            _failed(c, job_id, exc)
    return made


def _make(c: Container, job_id: int) -> None:
    with c.sessions() as session:
        job = session.get(DocumentJob, job_id)
        assert job is not None
        kind, draft, actor_id, source = job.kind, job.draft, job.actor_id, job.source_path
        request_key = str(job.request_id)
    zone = c.settings.timezone
    if source:
        register_request_letter(c, request_key, Path(source).read_bytes(), actor_id=actor_id,
                                on_issued=lambda session, document: _deliver(
                                    session, job_id, document.file_path, document, c.clock(),
                                    zone))
        Path(source).unlink(missing_ok=True)  # recorded in the documents folder now
        return
    if draft:
        pdf = draft_letter(c, kind, request_key)
        folder = c.settings.data_dir / "konsep"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}-{job_id}.pdf"
        path.write_bytes(pdf)
        with c.unit_of_work() as session:
            _deliver(session, job_id, str(path), None, c.clock(), zone)
        return
    issue_letter(c, kind, request_key, signer=configured_signer(c),
                 actor_id=actor_id,
                 on_issued=lambda session, document: _deliver(
                     session, job_id, document.file_path, document, c.clock(), zone))


def _deliver(session: Session, job_id: int, path: str, document: Document | None,
             now: datetime, zone: ZoneInfo) -> None:
    """Mark the job done and queue the file for each chat, in the caller's transaction."""
    job = session.get(DocumentJob, job_id)
    assert job is not None
    request = session.get(Request, job.request_id)
    assert request is not None
    job.status, job.done_at, job.file_path = "done", now, path
    job.document_id = document.id if document else None
    # A recipient is a chat id, or the e-mail address of someone without Telegram.
    recipients = json.loads(job.recipients)
    chats = [int(r) for r in recipients if not isinstance(r, str)]
    emails = [r for r in recipients if isinstance(r, str)]
    if document is not None:
        send_document(session, document, request.ticket, chats, now, zone, emails)
        return
    caption = render_text("chat/document_caption.txt.j2", zone, kind=KINDS[job.kind],
                          ticket=request.ticket, document=None, draft=True).strip()
    attachment = Attachment(path, f"{job.kind}-{request.ticket}-konsep.pdf")
    for chat_id in chats:
        enqueue(session, key=f"draft:{job.id}:{chat_id}", chat_id=chat_id, kind="document",
                text=caption, now=now, request_id=request.id, attachment=attachment)
    for address in emails:
        enqueue_email(session, key=f"draft:{job.id}:{address}", address=address,
                      kind="document", subject=f"[Pulih] {caption.splitlines()[0]}",
                      text=caption, now=now, attachments=(attachment,),
                      request_id=request.id)


def send_document(session: Session, document: Document, ticket: str, chats: list[int],
                  now: datetime, zone: ZoneInfo, emails: list[str] | None = None) -> None:
    """Queue an issued document for these chats (and e-mail addresses), with its number
    and code as caption."""
    caption = render_text("chat/document_caption.txt.j2", zone, kind=ALL_KINDS[document.kind],
                          ticket=ticket, document=document, draft=False).strip()
    attachment = Attachment(document.file_path, f"{document.kind}-{ticket}.pdf")
    for chat_id in chats:
        enqueue(session, key=f"document:{document.id}:{chat_id}", chat_id=chat_id,
                kind="document", text=caption, now=now, request_id=document.request_id,
                attachment=attachment)
    for address in emails or []:
        enqueue_email(session, key=f"document:{document.id}:{address}", address=address,
                      kind="document", subject=f"[Pulih] {caption.splitlines()[0]}",
                      text=caption, now=now, attachments=(attachment,),
                      request_id=document.request_id)


def _failed(c: Container, job_id: int, exc: Exception) -> None:
    now = c.clock()
    with c.unit_of_work() as session:
        job = session.get(DocumentJob, job_id)
        assert job is not None
        job.attempts += 1
        job.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if job.attempts < MAX_ATTEMPTS:
            job.next_attempt_at = now + timedelta(seconds=30 * 2 ** job.attempts)
            return
        job.status = "failed"
        request = session.get(Request, job.request_id)
        ticket = request.ticket if request else f"#{job.request_id}"
        for admin in role_holders(session, Role.ADMIN):
            if admin.telegram_id is not None:
                enqueue(session, key=f"docfail:{job.id}:{admin.id}", chat_id=admin.telegram_id,
                        kind="admin", now=now, request_id=job.request_id,
                        text=f"{KINDS[job.kind]} untuk {ticket} gagal dibuat setelah "
                             f"{job.attempts} percobaan ({job.last_error}). Buat ulang dengan "
                             f"`pulih letters render {job.kind} --request {ticket}`.")


DRAFTS_KEPT = timedelta(days=30)  # a KONSEP shown to an official is read within days


def prune_drafts(c: Container, kept: timedelta = DRAFTS_KEPT,
                 now: float | None = None) -> int:
    """Delete KONSEP PDFs older than `kept` (by file time): drafts are shown, never
    issued, and an office's disk should not fill with them. Returns how many went."""
    return prune_old_files(c.settings.data_dir / "konsep", kept, now, "konsep")


def prune_old_files(folder: Path, kept: timedelta, now: float | None, what: str,
                    keep: Callable[[Path], bool] = lambda _: False) -> int:
    """Delete the PDFs in `folder` older than `kept` (by file time) that `keep` does not
    hold on to; never through a link. Returns how many went."""
    cutoff = (time.time() if now is None else now) - kept.total_seconds()
    gone = 0
    for path in folder.glob("*.pdf"):
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_mtime >= cutoff \
                    or keep(path):
                continue
            path.unlink()
            gone += 1
        except OSError as exc:
            log.warning("%s %s tidak dapat dihapus: %s", what, path.name, exc)
    return gone
