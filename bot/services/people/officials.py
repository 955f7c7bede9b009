"""Who holds a role today: the people the inventory names, and the Plt./Plh. standing in
for them inside their dates. One place for the question, so cards, reminders, escalation
and signatures agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Delegation, Person, RoleAssignment
from bot.workflow.sop import Role


@dataclass(frozen=True)
class StandIn:
    """An acting appointment in force: `delegate` acts as `kind` (Plt./Plh.) for `principal`."""

    kind: str
    principal_id: int
    delegate: Person


def role_holders(session: Session, role: Role, principal_id: int | None = None) -> list[Person]:
    """Active people the inventory gives `role` (or only `principal_id`), by id."""
    query = select(Person).join(RoleAssignment).where(RoleAssignment.role == role.value,
                                                      Person.active.is_(True))
    if principal_id is not None:
        query = query.where(Person.id == principal_id)
    return list(session.execute(query.order_by(Person.id)).scalars())


def stand_ins(session: Session, role: Role, day: date,
              principals: list[Person]) -> list[StandIn]:
    """Appointments in force on `day` for these principals, the latest appointed first."""
    if not principals:
        return []
    grants = session.execute(
        select(Delegation).where(Delegation.principal_id.in_([p.id for p in principals]),
                                 Delegation.role == role.value,
                                 Delegation.starts_on <= day, Delegation.ends_on >= day)
        .order_by(Delegation.starts_on.desc(), Delegation.id)).scalars()
    found = []
    for grant in grants:
        delegate = session.get(Person, grant.delegate_id)
        if delegate is not None and delegate.active:
            found.append(StandIn(grant.kind, grant.principal_id, delegate))
    return found


def holders(session: Session, role: Role, day: date,
            principal_id: int | None = None) -> list[Person]:
    """The role's holders (or only `principal_id`) and whoever stands in for them today."""
    people = role_holders(session, role, principal_id)
    for stand_in in stand_ins(session, role, day, people):
        if stand_in.delegate not in people:
            people.append(stand_in.delegate)
    return people
