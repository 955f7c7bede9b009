"""The activity record (Dokumentasi Kegiatan): append-only events chained by HMAC-SHA256.

Each event's hash covers the previous hash and the event's canonical form, so an
altered, deleted or inserted row breaks the chain at that row; the key lives outside the
database (`bot.services.audit.key`), so a rewrite cannot be re-chained from inside it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import AuditEvent, AuditHead
from bot.errors import PulihError
from bot.services.audit.key import ChainKey
from letters.timefmt import as_utc, waktu

GENESIS = "0" * 64
SYSTEM_ACTOR = "Sistem Pulih"

_SECRET_PATTERNS = (
    re.compile(r"\b\d{5,20}:[A-Za-z0-9_-]{30,}\b"),  # Telegram bot tokens
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)",
               re.S),
    re.compile(r"(?i)\b(password|passwd|passphrase|secret|token|pwd)\b(\s*[=:]\s*)\S+"),
    re.compile(r"(//[^:/@\s]+:)[^@\s]+@"),  # credentials inside URLs
)


def redact(text: str) -> str:
    """`text` with anything that looks like a credential replaced by ***."""
    text = _SECRET_PATTERNS[0].sub("***", text)
    text = _SECRET_PATTERNS[1].sub("***", text)
    text = _SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return _SECRET_PATTERNS[3].sub(r"\1***@", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: one text for one value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _timestamp(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(event: AuditEvent, prev_hash: str, key: ChainKey | None = None) -> str:
    """HMAC-SHA256 with the office's chain key (plain SHA-256 for events before the key)
    over the previous hash and the event's canonical form."""
    body = canonical_json({
        "at": _timestamp(event.occurred_at),
        "request": event.request_id,
        "actor_id": event.actor_id,
        "actor": event.actor_name,
        "role": event.actor_role,
        "acting": event.acting,
        "action": event.action,
        "from": event.from_state,
        "to": event.to_state,
        "note": event.note,
        "documents": event.documents,
        "data": event.data,
    })
    message = f"{prev_hash}\n{body}".encode()
    if key is not None and key.keys(event.seq):
        return hmac.new(key.secret, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def chain_key(session: Session, next_seq: int | None = None) -> ChainKey | None:
    """The office's chain key, if the session knows where it is (made on first write)."""
    source = session.info.get("audit_key")
    return source(next_seq) if source is not None else None


def _writing_key(session: Session, next_seq: int) -> ChainKey:
    """The key an event must be written with: a session that does not know it (one not
    made by `bot.bootstrap`) would write an event the chain then calls altered."""
    key = chain_key(session, next_seq)
    if key is None:
        raise PulihError("Sesi basis data ini tidak mengenal kunci catatan kegiatan; "
                         "catatan tidak ditulis (buka basis data lewat bot.bootstrap).")
    return key


@dataclass(frozen=True)
class DocumentRef:
    """A document mentioned by an event, identified by its hash."""

    kind: str
    sha256: str
    number: str | None = None


def lock_chain(session: Session) -> AuditHead:
    """The chain's head row, locked until the transaction ends: writers that must not
    interleave (events, letter numbers) queue here."""
    return session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()


def append_event(
    session: Session,
    *,
    action: str,
    now: datetime,
    actor_id: int | None = None,
    actor_name: str = SYSTEM_ACTOR,
    actor_role: str = "system",
    acting: str = "",
    request_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    documents: Sequence[DocumentRef] = (),
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    head = lock_chain(session)
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=as_utc(now),
        request_id=request_id,
        actor_id=actor_id,
        actor_name=actor_name,
        actor_role=actor_role,
        acting=acting,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=redact(note),
        documents=canonical_json(
            [{"kind": d.kind, "number": d.number, "sha256": d.sha256} for d in documents]
        ),
        data=canonical_json(_redact_value(data or {})),
        prev_hash=head.hash,
    )
    event.hash = event_hash(event, head.hash, _writing_key(session, event.seq))
    session.add(event)
    head.seq, head.hash = event.seq, event.hash
    session.flush()
    return event


def iter_events(session: Session) -> Iterator[AuditEvent]:
    """Every event in chain order."""
    yield from session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()


@dataclass(frozen=True)
class ChainReport:
    """The outcome of `verify_chain`: ok, or the first problem and where it is."""

    events: int
    problem: str | None = None
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(session: Session) -> ChainReport:
    """Walk the whole chain and report (in Indonesian) the first altered, deleted or inserted event.

    The hash covers the event's content and the previous hash but not its sequence
    number, so an event slipped in between others is named as inserted rather than
    showing up as damage to its neighbours.
    """
    head = session.get(AuditHead, 1)
    if head is None:
        return ChainReport(0, "kepala rantai (audit_head) hilang")
    key = chain_key(session)
    if key is None and "audit_key" in session.info and head.seq > 0:
        return ChainReport(0, "kunci catatan kegiatan (audit.key di folder data) tidak ada: "
                              "rantai tidak dapat dibuktikan")
    prev_hash, prev2_hash, expected_seq, count = GENESIS, None, 1, 0
    for event in iter_events(session):
        count += 1
        seq = event.seq
        if seq > head.seq:
            return ChainReport(count, f"kejadian #{seq} disisipkan setelah akhir rantai yang "
                                      f"tercatat (#{head.seq})", seq)
        if event_hash(event, event.prev_hash, key) != event.hash:
            return ChainReport(count, f"kejadian #{seq} diubah (isinya tidak cocok dengan "
                                      "hash-nya)", seq)
        if event.prev_hash != prev_hash:
            if seq > expected_seq:
                return ChainReport(count, f"kejadian {_span(expected_seq, seq - 1)} dihapus "
                                          f"(celah sebelum #{seq})", expected_seq)
            if prev2_hash is not None and event.prev_hash == prev2_hash:
                return ChainReport(count, f"kejadian #{seq - 1} disisipkan (#{seq} menyambung "
                                          "ke kejadian sebelumnya)", seq - 1)
            return ChainReport(count, f"rantai putus sebelum kejadian #{seq}: kejadian "
                                      "sebelumnya diubah, dihapus atau diganti", seq)
        prev2_hash, prev_hash, expected_seq = prev_hash, event.hash, seq + 1
    last_seq = expected_seq - 1
    if head.seq > last_seq:
        return ChainReport(count, f"kejadian {_span(last_seq + 1, head.seq)} dihapus "
                                  "(rantai berakhir terlalu awal)", last_seq + 1)
    if head.hash != prev_hash:
        return ChainReport(count, f"kejadian #{last_seq} diubah atau diganti (tidak cocok "
                                  "dengan kepala rantai)", last_seq)
    return ChainReport(count)


def ensure_chain_key(session: Session) -> bool:
    """Make the office's chain key if it has none (it then keys the next event); True if
    it was made now."""
    head = session.get(AuditHead, 1)
    source = session.info.get("audit_key")
    if head is None or source is None or source.path.exists():
        return False
    source(head.seq + 1)
    return True


def head_anchor(session: Session) -> tuple[int, str]:
    """The chain's head, to be kept outside the database: `SEQ:HASH`."""
    head = session.get(AuditHead, 1)
    return (head.seq, head.hash) if head is not None else (0, GENESIS)


ANCHOR_RE = re.compile(r"^#?(\d+):([0-9a-fA-F]{16,64})$")


def check_anchor(session: Session, anchor: str) -> str | None:
    """None if the record still holds the event the anchor names, with that hash (a prefix
    of at least 16 hex digits, as printed on documents, will do); else why not."""
    found = ANCHOR_RE.match(anchor.strip())
    if found is None:
        return f"jangkar {anchor!r} tidak dikenali; bentuknya NOMOR:HASH"
    seq, digest = int(found.group(1)), found.group(2).lower()
    event = session.execute(select(AuditEvent).where(AuditEvent.seq == seq)).scalar_one_or_none()
    if event is None:
        return f"kejadian #{seq} dari jangkar tidak ada lagi dalam catatan"
    if not event.hash.startswith(digest):
        return (f"kejadian #{seq} kini ber-hash {event.hash[:16]}..., jangkarnya "
                f"{digest[:16]}...: catatan ditulis ulang setelah jangkar itu dibagikan")
    return None


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}..#{last}"


EXPORT_COLUMNS = ("seq", "waktu_utc", "waktu_lokal", "tiket", "aktor", "peran", "bertindak",
                  "aksi", "dari", "ke", "catatan", "dokumen", "data", "hash_sebelumnya", "hash")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: str | None) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula (a reason typed
    as `=HYPERLINK(...)`) gets a leading apostrophe."""
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(session: Session, out: IO[str], zone: ZoneInfo,
               tickets: dict[int, str] | None = None) -> int:
    """Write the chain as CSV (UTC and local time side by side); returns the row count."""
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    rows = 0
    tickets = tickets or {}
    for e in iter_events(session):
        writer.writerow([
            e.seq, _timestamp(e.occurred_at), waktu(e.occurred_at, zone),
            tickets.get(e.request_id, "") if e.request_id else "", *map(inert, (
                e.actor_name, e.actor_role, e.acting, e.action, e.from_state, e.to_state,
                e.note, e.documents, e.data)),
            e.prev_hash, e.hash,
        ])
        rows += 1
    return rows
