"""An admin's work on people, from the CLI or from chat (/orang): who is there, linked or
not, last seen; unlink an account (a lost phone), deactivate and activate a person. The
inventory stays the source of who exists; these change only the binding and the standing,
and each change is one event in the activity record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.db.models import LinkCode, Person
from bot.services.audit.chain import append_event
from bot.workflow.refusals import NotFound, Refusal
from bot.workflow.sop import Role

SEEN_EVERY = timedelta(minutes=5)  # last-seen is refreshed at most this often


class NothingToDo(Refusal):
    """Already so: nothing was changed."""

    code = "nothing_to_do"


@dataclass(frozen=True)
class PersonRow:
    nip: str
    name: str
    roles: tuple[Role, ...]
    agency: str
    linked: bool
    active: bool
    suspended: bool
    last_seen: datetime | None


@dataclass(frozen=True)
class Admin:
    """Who makes the change, as the activity record names them."""

    name: str
    person_id: int | None = None
    role: str = "admin"


def people(session: Session) -> list[PersonRow]:
    """Everyone the database knows, active first, by name."""
    rows = session.execute(select(Person).options(selectinload(Person.roles),
                                                  selectinload(Person.agency))).scalars()
    listed = [PersonRow(p.nip, p.name, tuple(sorted((Role(r.role) for r in p.roles),
                                                    key=lambda r: r.value)),
                        p.agency.code if p.agency else "-", p.telegram_id is not None,
                        p.active, p.suspended_at is not None, p.last_seen_at)
              for p in rows]
    return sorted(listed, key=lambda r: (not r.active, r.name))


def seen(session: Session, telegram_ids: set[int], now: datetime) -> None:
    """Mark these accounts as seen now (at most once per SEEN_EVERY, one statement)."""
    if telegram_ids:
        session.execute(update(Person).where(
            Person.telegram_id.in_(telegram_ids),
            or_(Person.last_seen_at.is_(None), Person.last_seen_at < now - SEEN_EVERY))
            .values(last_seen_at=now))


def _person(session: Session, nip: str) -> Person:
    person = session.execute(select(Person).where(Person.nip == nip.strip())
                             ).scalar_one_or_none()
    if person is None:
        raise NotFound(f"Tidak ada pegawai dengan NIP {nip.strip()}.")
    return person


def unlink(session: Session, nip: str, admin: Admin, now: datetime) -> Person:
    """Unbind the person's Telegram account (their taps are refused from now on) and void
    their unused links; a sync does not bind that account again."""
    person = _person(session, nip)
    if person.telegram_id is None:
        raise NothingToDo(f"{person.name} belum terhubung ke akun Telegram mana pun.")
    old = person.telegram_id
    person.telegram_id, person.revoked_telegram_id = None, old
    session.execute(update(LinkCode).where(LinkCode.person_id == person.id,
                                           LinkCode.used_at.is_(None),
                                           LinkCode.expires_at > now).values(expires_at=now))
    append_event(session, action="telegram_unlinked", now=now, actor_id=admin.person_id,
                 actor_name=admin.name, actor_role=admin.role,
                 data={"person_id": person.id, "nip": person.nip, "telegram_id": old})
    return person


def deactivate(session: Session, nip: str, admin: Admin, now: datetime,
               reason: str = "") -> Person:
    """The person can do nothing from now on (moved, retired), until activated again."""
    person = _person(session, nip)
    if not person.active:
        raise NothingToDo(f"{person.name} sudah nonaktif.")
    person.active, person.suspended_at, person.suspended_by = False, now, admin.name
    append_event(session, action="person_deactivated", now=now, actor_id=admin.person_id,
                 actor_name=admin.name, actor_role=admin.role, note=reason,
                 data={"person_id": person.id, "nip": person.nip})
    return person


def activate(session: Session, nip: str, admin: Admin, now: datetime) -> Person:
    """Undo an admin's deactivation (someone the inventory no longer lists stays out)."""
    person = _person(session, nip)
    if person.suspended_at is None:
        raise NothingToDo(f"{person.name} tidak sedang dinonaktifkan admin.")
    person.active, person.suspended_at, person.suspended_by = True, None, None
    append_event(session, action="person_activated", now=now, actor_id=admin.person_id,
                 actor_name=admin.name, actor_role=admin.role,
                 data={"person_id": person.id, "nip": person.nip})
    return person


def unlinked_nips(session: Session) -> list[str]:
    """Active people without a Telegram account yet, by name."""
    return list(session.execute(select(Person.nip).where(
        Person.active.is_(True), Person.telegram_id.is_(None)).order_by(Person.name)).scalars())
