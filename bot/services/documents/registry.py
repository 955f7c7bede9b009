"""Issued documents: the file kept, its SHA-256 recorded in the activity record, and a
short verification code, so that anyone holding a PDF or a printout can check it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Document, Person, Request
from bot.services.audit.chain import DocumentRef, append_event
from letters.facts import Official
from letters.kinds import ALL_KINDS

ISSUED, RECEIVED = "issued", "received"  # a document's status: made by Pulih, or uploaded
# No 0/O, 1/I/L: codes are read aloud and typed from paper.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    """A verification code like 'K7QM-2XRA-9F' (about 55 bits of chance)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def issue_document(session: Session, *, kind: str, content: bytes, folder: Path,
                   now: datetime, number: str | None = None, request_id: int | None = None,
                   actor_id: int | None = None, actor_name: str = "Sistem Pulih",
                   code: str | None = None, received: bool = False,
                   issuer: str | None = None, signer: Official | None = None) -> Document:
    """Keep the file, record its hash and code, and append it to the activity record.

    `code` lets a caller print the code on the page before the bytes are final.
    `received`: a file an agency uploaded (its own signed letter), kept and recorded as
    received, never as issued: Pulih vouches only that these bytes came in, not for them.
    `issuer` and `signer`: the office the document speaks for and who signs it, as the
    public verification page shows them.
    """
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    digest = hashlib.sha256(content).hexdigest()
    code = code or new_code()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now:%Y}" / f"{kind}-{code}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:  # never overwrite an issued file
        handle.write(content)
    row = Document(request_id=request_id, kind=kind, number=number, sha256=digest,
                   verification_code=code, file_path=str(path), size=len(content),
                   status=RECEIVED if received else ISSUED, created_by=actor_id,
                   created_at=now, issuer=issuer,
                   signer_name=(signer.name or None) if signer else None,
                   signer_position=signer_position(signer) if signer else None)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        path.unlink()
        raise
    append_event(session, action="document_received" if received else "document_issued",
                 now=now, actor_id=actor_id,
                 actor_name=actor_name, request_id=request_id,
                 documents=[DocumentRef(kind, digest, number)],
                 data={"document_id": row.id, "code": code})
    return row


def signer_position(signer: Official) -> str:
    """The signer's position as printed above the name: the a.n./Plh. lines, then the
    title."""
    return ", ".join((*signer.on_behalf, signer.jabatan))


@dataclass(frozen=True)
class Verification:
    genuine: bool  # a document Pulih issued and has not cancelled
    document: Document | None
    ticket: str | None
    sha256: str
    uploader: str | None = None  # for a received document: who uploaded it

    @property
    def received(self) -> bool:
        """These bytes are a file an agency uploaded, not a document Pulih issued."""
        return self.document is not None and self.document.status == RECEIVED


def verify_bytes(session: Session, content: bytes) -> Verification:
    """Whether these exact bytes are a document Pulih issued (one changed byte: no)."""
    digest = hashlib.sha256(content).hexdigest()
    row = session.execute(select(Document).where(Document.sha256 == digest)
                          .order_by(Document.id)).scalars().first()
    return _verification(session, row, digest)


def verify_code(session: Session, code: str) -> Verification:
    """The record behind a verification code read from a printout."""
    clean = code.strip().upper().replace(" ", "")
    row = session.execute(select(Document).where(Document.verification_code == clean)
                          ).scalar_one_or_none()
    return _verification(session, row, row.sha256 if row else "")


def _verification(session: Session, row: Document | None, digest: str) -> Verification:
    if row is None:
        return Verification(False, None, None, digest)
    request = session.get(Request, row.request_id) if row.request_id else None
    uploader = session.get(Person, row.created_by) if row.created_by else None
    return Verification(row.status == ISSUED, row, request.ticket if request else None,
                        digest, uploader.name if uploader else None)
