"""Step 1 from chat: the requester's form becomes a request, its notifications, and its
request letter (the uploaded signed PDF, or one Pulih generates)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import Conversation, DocumentJob, System
from bot.render import render_text
from bot.services.documents.letters import check_upload
from bot.services.documents.orders import Order, order_documents
from bot.services.documents.paperwork import prune_old_files
from bot.services.outbox.queue import enqueue
from bot.services.people.officials import holders
from bot.services.requests.notify import notify_move
from bot.services.requests.records import NewRequest, submit_request
from bot.workflow.refusals import NotAllowed
from bot.workflow.rules import Actor
from bot.workflow.sop import Role
from letters.timefmt import local_date

_POINT = re.compile(r"^\s*(\d{1,2})[-/](\d{1,2})[-/](\d{4})(?:\s+(\d{1,2})[.:](\d{2}))?\s*$")


def agency_systems(session: Session, agency_id: int | None) -> list[tuple[int, str, str]]:
    """(id, code, name) of the active systems the agency owns."""
    rows = session.execute(select(System).where(System.agency_id == agency_id,
                                                System.active.is_(True))
                           .order_by(System.name)).scalars()
    return [(s.id, s.code, s.name) for s in rows]


def parse_point(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """'22-11-2026 23.00' (WITA) as an aware time; NotAllowed with the expected form."""
    match = _POINT.match(text)
    if match is None:
        raise NotAllowed("Tulis tanggal dan jam seperti 22-11-2026 23.00 (WITA), atau pilih "
                         "\u201cBackup terakhir\u201d.")
    day, month, year, hour, minute = (int(g) if g else 0 for g in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError as exc:
        raise NotAllowed("Tanggal atau jam itu tidak ada di kalender.") from exc
    if moment > now:
        raise NotAllowed("Titik pemulihan tidak boleh di masa depan.")
    return moment


@dataclass(frozen=True)
class Filed:
    request_id: int
    ticket: str


def file_request(c: Container, actor: Actor, new: NewRequest,
                 upload: bytes | Path | None = None,
                 then: Callable[[Session], None] | None = None) -> Filed:
    """Step 1 in one transaction: the request, the Kepala Dinas's card, the requester's
    ticket message and the order for the request letter (the signed PDF uploaded, or one
    Pulih makes) commit together or not at all; the documents job makes the letter and
    sends it to the Kepala Dinas and the requester. A crash at any point leaves either
    nothing or all of it. `upload` is the letter's bytes or a file `keep_upload` kept
    (removed if the request is refused); `then` writes the caller's part (the form
    forgotten) in the same transaction."""
    now, zone = c.clock(), c.settings.timezone
    kept = upload if isinstance(upload, Path) or upload is None else keep_upload(c, upload)
    try:
        with c.unit_of_work() as session:
            request = submit_request(session, actor, new, now, zone)
            notify_move(session, request, now, zone, c.office.team_chat_id)
            readers = [p.telegram_id for p in holders(session, Role.KADIS, local_date(now, zone))
                       if p.telegram_id]
            requester = request.requester.telegram_id
            order_documents(session, request.id, [Order("surat_permohonan", (
                *readers, requester or 0), source=str(kept) if kept else None)],
                key=f"filed:{request.id}", now=now, actor_id=actor.person_id)
            if requester:
                enqueue(session, key=f"filed:{request.id}:{requester}", chat_id=requester,
                        kind="notice", now=now, request_id=request.id,
                        text=render_text("chat/form_filed.txt.j2", zone, ticket=request.ticket,
                                         uploaded=kept is not None).strip())
            if then is not None:
                then(session)
            return Filed(request.id, request.ticket)
    except BaseException:
        if kept is not None:
            kept.unlink(missing_ok=True)
        raise


def keep_upload(c: Container, content: bytes) -> Path:
    """The uploaded letter, checked and kept on disk until the documents job records it
    (the database holds its path, not its bytes)."""
    check_upload(content)
    folder = c.settings.data_dir / "uploads"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.pdf"
    with open(path, "xb", opener=lambda p, flags: os.open(p, flags, 0o600)) as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return path


UPLOADS_KEPT = timedelta(days=1)  # far past the form's half hour


def prune_uploads(c: Container, kept: timedelta = UPLOADS_KEPT,
                  now: float | None = None) -> int:
    """Delete uploaded letters older than `kept` (by file time) that no open form and no
    waiting documents job names: a form abandoned after its upload leaves its file, and
    an office's disk should not keep it. Returns how many went."""
    with c.sessions() as session:
        wanted = set(session.execute(select(DocumentJob.source_path).where(
            DocumentJob.status == "pending", DocumentJob.source_path.is_not(None))).scalars())
        forms = " ".join(session.execute(select(Conversation.data)).scalars())
    return prune_old_files(c.settings.data_dir / "uploads", kept, now, "unggahan",
                           keep=lambda path: str(path) in wanted or str(path) in forms)
