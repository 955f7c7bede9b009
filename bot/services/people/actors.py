"""Who is acting: a person found by numeric Telegram id (never by username)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bot.db.models import Delegation, Person, RoleAssignment
from bot.workflow.refusals import NotLinked
from bot.workflow.rules import ActingGrant, Actor
from bot.workflow.sop import Role


def actor_for_person(session: Session, person: Person) -> Actor:
    """The person's roles and acting grants, read from the database now."""
    roles = session.execute(
        select(RoleAssignment.role).where(RoleAssignment.person_id == person.id)
    ).scalars()
    grants = session.execute(
        select(Delegation).where(Delegation.delegate_id == person.id)
    ).scalars()
    return Actor(
        person_id=person.id,
        name=person.name,
        roles=frozenset(Role(r) for r in roles),
        agency_id=person.agency_id,
        acting=tuple(
            ActingGrant(Role(g.role), g.principal_id, g.kind, g.starts_on, g.ends_on)
            for g in grants
        ),
    )


def _active_actor(session: Session, *criteria: ColumnElement[bool]) -> Actor:
    person = session.execute(
        select(Person).where(Person.active.is_(True), *criteria)
    ).scalar_one_or_none()
    if person is None:
        raise NotLinked()
    return actor_for_person(session, person)


def actor_by_telegram_id(session: Session, telegram_id: int) -> Actor:
    """The active person bound to this Telegram user id, or NotLinked."""
    return _active_actor(session, Person.telegram_id == telegram_id)


def actor_by_nip(session: Session, nip: str) -> Actor:
    """The active person with this NIP (for the CLI break-glass path), or NotLinked."""
    return _active_actor(session, Person.nip == nip)
