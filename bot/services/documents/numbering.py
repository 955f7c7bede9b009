"""The numbering register (agenda surat): one sequence per unit and year, allocated
atomically, never reused; a cancelled number stays in the register as cancelled."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import LetterNumber
from bot.services.audit.chain import append_event, lock_chain
from letters.numbering import NumberParts, format_number

MAX_ATTEMPTS = 5


def allocate_number(sessions: sessionmaker[Session], *, kind: str, pattern: str, unit: str,
                    classification: str, security: str, now: datetime, zone: ZoneInfo,
                    request_id: int | None = None) -> LetterNumber:
    """Take the next number of the unit's year in a transaction of its own.

    Writers queue on the activity record's head row (every allocation is recorded
    there anyway), so the year's highest number read next is always the latest: numbers
    stay unique and without gaps under any number of threads or processes. The unique
    (unit, year, seq) key is the last guard; a collision there is simply tried again.
    """
    local = now.astimezone(zone)
    for _attempt in range(MAX_ATTEMPTS):
        with sessions() as session:
            try:
                with session.begin():
                    lock_chain(session)
                    last = session.scalar(
                        select(func.max(LetterNumber.seq))
                        .where(LetterNumber.unit == unit, LetterNumber.year == local.year))
                    seq = (last or 0) + 1
                    number = format_number(pattern, NumberParts(
                        seq, unit, classification, security, local.month, local.year))
                    row = LetterNumber(unit=unit, year=local.year, seq=seq, kind=kind,
                                       number=number, request_id=request_id, status="issued",
                                       allocated_at=now, note="")
                    session.add(row)
                    session.flush()
                    append_event(session, action="number_allocated", now=now,
                                 request_id=request_id,
                                 data={"kind": kind, "number": number, "seq": seq})
                return row
            except IntegrityError:
                continue
    raise RuntimeError(f"nomor surat untuk {unit}/{local.year} tidak dapat dialokasikan")


def cancel_number(session: Session, number: str, reason: str, now: datetime) -> LetterNumber:
    """Mark a number cancelled (batal); it is kept and never given out again."""
    row = session.execute(select(LetterNumber).where(LetterNumber.number == number)
                          ).scalar_one()
    row.status, row.note = "cancelled", reason
    append_event(session, action="number_cancelled", now=now, request_id=row.request_id,
                 note=reason, data={"number": number})
    return row
