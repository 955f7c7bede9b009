"""What anyone may learn of a document from its verification code or its bytes: only what
the activity record vouches for (kind, number, date, issuing office, signer, SHA-256,
issued or received, replaced or not), never a request's contents, a host or anyone but the
signer (UU 27/2022 on personal data)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Document
from bot.services.documents.registry import ALPHABET, ISSUED, RECEIVED
from letters.kinds import ALL_KINDS

CODE_RE = re.compile(f"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{2}}$")
# Looked up in place of a code that cannot be one, so that a malformed code costs the
# database the same query as an unknown one.
_NO_CODE = "----------"


@dataclass(frozen=True)
class Replacement:
    """The later document of the same kind and request that replaces this one."""

    number: str | None
    issued_at: datetime


@dataclass(frozen=True)
class PublicRecord:
    """A document as the public verification page shows it."""

    code: str
    kind: str  # its name in Indonesian
    number: str | None
    issued_at: datetime
    issuer: str | None
    signer_name: str | None
    signer_position: str | None
    sha256: str
    received: bool  # uploaded by an agency: Pulih vouches only that these bytes came in
    replaced_by: Replacement | None


def normal_code(text: str) -> str | None:
    """A code as typed or scanned (any case, spaces, dashes left out), written as printed,
    or None when it cannot be a code."""
    raw = re.sub(r"[\s-]", "", text.upper())
    clean = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    return clean if CODE_RE.match(clean) else None


def record_by_code(session: Session, text: str) -> PublicRecord | None:
    """The document behind a code, or None for a code unknown or malformed (the same
    answer, and the same query, for both)."""
    code = normal_code(text[:64])
    row = session.execute(select(Document).where(
        Document.verification_code == (code or _NO_CODE),
        Document.status.in_((ISSUED, RECEIVED)))).scalar_one_or_none()
    return _public(session, row) if row is not None else None


def record_by_bytes(session: Session, content: bytes) -> PublicRecord | None:
    """The document whose bytes are exactly these (one changed byte: None)."""
    digest = hashlib.sha256(content).hexdigest()
    row = session.execute(select(Document).where(
        Document.sha256 == digest, Document.status.in_((ISSUED, RECEIVED)))
        .order_by(Document.id)).scalars().first()
    return _public(session, row) if row is not None else None


def _public(session: Session, row: Document) -> PublicRecord:
    later = None
    if row.request_id is not None and row.status == ISSUED:
        later = session.execute(select(Document).where(
            Document.request_id == row.request_id, Document.kind == row.kind,
            Document.status == ISSUED, Document.id > row.id)
            .order_by(Document.id.desc())).scalars().first()
    return PublicRecord(
        code=row.verification_code, kind=ALL_KINDS.get(row.kind, row.kind),
        number=row.number, issued_at=row.created_at, issuer=row.issuer,
        signer_name=row.signer_name if row.status == ISSUED else None,
        signer_position=row.signer_position if row.status == ISSUED else None,
        sha256=row.sha256, received=row.status == RECEIVED,
        replaced_by=Replacement(later.number, later.created_at) if later else None)
