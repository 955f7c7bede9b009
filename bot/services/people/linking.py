"""Binding a person of the inventory to one Telegram account with a one-time code.

An admin makes the code (`pulih people invite NIP`); the person opens the bot's link,
which sends `/start <code>`; their numeric Telegram user id is then bound. Usernames
play no part: they can change hands."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import LinkCode, Person
from bot.services.audit.chain import append_event
from bot.workflow.refusals import NotAllowed, NotFound

CODE_LIFETIME = timedelta(days=7)
# Deep-link parameters allow A-Z, a-z, 0-9, _ and - (at most 64 characters).
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def invite(session: Session, nip: str, now: datetime,
           actor_name: str = "Admin (CLI)") -> tuple[Person, str]:
    """A new one-time code for the active person with this NIP; earlier unused codes
    of that person stop working."""
    person = session.execute(select(Person).where(Person.nip == nip.strip(),
                                                  Person.active.is_(True))
                             ).scalar_one_or_none()
    if person is None:
        raise NotFound(f"Tidak ada pegawai aktif dengan NIP {nip.strip()} di inventaris.")
    session.execute(update(LinkCode).where(LinkCode.person_id == person.id,
                                           LinkCode.used_at.is_(None))
                    .values(expires_at=now))
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(24))
    session.add(LinkCode(person_id=person.id, code_hash=_hash(code), created_at=now,
                         expires_at=now + CODE_LIFETIME))
    append_event(session, action="link_invited", now=now, actor_name=actor_name,
                 data={"person_id": person.id, "nip": person.nip})
    return person, code


def redeem(session: Session, code: str, telegram_id: int, now: datetime) -> Person:
    """Bind `telegram_id` to the code's person, or refuse (Indonesian) and change nothing."""
    row = session.execute(select(LinkCode).where(LinkCode.code_hash == _hash(code))
                          ).scalar_one_or_none()
    if row is None:
        raise NotFound("Kode tautan tidak dikenal. Minta tautan baru kepada admin Pulih.")
    person = session.get(Person, row.person_id)
    if person is None or not person.active:
        raise NotAllowed("Pegawai untuk kode ini tidak lagi aktif di inventaris.")
    if row.used_at is not None:
        if row.used_by == telegram_id:
            return person  # the same person opening the same link again
        raise NotAllowed("Kode tautan ini sudah dipakai. Minta tautan baru kepada admin "
                         "Pulih.")
    if row.expires_at <= now:
        raise NotAllowed("Kode tautan ini sudah kedaluwarsa. Minta tautan baru kepada "
                         "admin Pulih.")
    other = session.execute(select(Person).where(Person.telegram_id == telegram_id,
                                                 Person.id != person.id)).scalar_one_or_none()
    if other is not None:
        raise NotAllowed("Akun Telegram ini sudah terhubung dengan pegawai lain. Hubungi "
                         "admin Pulih.")
    row.used_at, row.used_by = now, telegram_id
    person.telegram_id, person.revoked_telegram_id = telegram_id, None
    append_event(session, action="telegram_linked", now=now, actor_id=person.id,
                 actor_name=person.name, data={"person_id": person.id,
                                               "telegram_id": telegram_id})
    return person
