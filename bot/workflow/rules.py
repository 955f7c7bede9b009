"""Pure rules: may this actor take this action on this request now?

Nothing here touches the database; services gather the facts and call `authorize`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.workflow.refusals import (
    AlreadyDecided,
    InvalidState,
    NotAllowed,
    NotAssigned,
    ReasonRequired,
    SelfApproval,
    SelfRatification,
    WrongAgency,
)
from bot.workflow.sop import (
    ACTION_LABELS,
    APPROVALS,
    RATIFICATIONS,
    REPEATABLE,
    ROLE_LABELS,
    STATE_LABELS,
    TRANSITIONS,
    Action,
    Role,
    State,
    Transition,
    transition_for,
)
from letters.timefmt import tanggal, waktu


@dataclass(frozen=True)
class ActingGrant:
    """A dated appointment as Plt./Plh. for an official's role."""

    role: Role
    principal_id: int
    kind: str  # "Plt." or "Plh."
    starts_on: date
    ends_on: date

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class Actor:
    """A linked person with the roles the inventory gives them."""

    person_id: int
    name: str
    roles: frozenset[Role]
    agency_id: int | None = None
    acting: tuple[ActingGrant, ...] = ()


@dataclass(frozen=True)
class PastAction:
    action: Action
    actor_name: str
    at: datetime


@dataclass(frozen=True)
class RequestFacts:
    """What the rules need to know about a request."""

    state: State
    agency_id: int
    requester_id: int
    kabid_id: int | None = None
    executor_id: int | None = None
    report_author_id: int | None = None
    history: tuple[PastAction, ...] = field(default=())


@dataclass(frozen=True)
class Authority:
    """The capacity in which an allowed action is taken."""

    transition: Transition
    role: Role
    acting: ActingGrant | None = None


def _capacity(actor: Actor, role: Role, day: date) -> tuple[bool, ActingGrant | None]:
    """Whether the actor holds `role` today, and through which acting grant if not directly."""
    if role in actor.roles:
        return True, None
    for grant in actor.acting:
        if grant.role is role and grant.active_on(day):
            return True, grant
    return False, None


def _refuse_missing_role(actor: Actor, roles: set[Role], day: date) -> NotAllowed:
    labels = " atau ".join(sorted(ROLE_LABELS[r] for r in roles))
    for grant in actor.acting:
        if grant.role in roles and not grant.active_on(day):
            return NotAllowed(
                f"Penugasan Anda sebagai {grant.kind} {ROLE_LABELS[grant.role]} berlaku "
                f"{tanggal(grant.starts_on)} s.d. {tanggal(grant.ends_on)}; "
                f"hari ini di luar masa tersebut."
            )
    return NotAllowed(f"Tindakan ini hanya dapat dilakukan oleh {labels}.")


def authorize(
    action: Action,
    facts: RequestFacts,
    actor: Actor,
    now: datetime,
    zone: ZoneInfo,
    reason: str | None = None,
) -> Authority:
    """The authority under which `actor` may take `action`, or a Refusal saying why not."""
    day = now.astimezone(zone).date()
    roles_for_action = {t.role for t in TRANSITIONS if t.action is action}
    if not roles_for_action:
        raise NotAllowed("Tindakan ini tidak dapat dilakukan pada permohonan yang sudah ada.")
    if not any(_capacity(actor, r, day)[0] for r in roles_for_action):
        raise _refuse_missing_role(actor, roles_for_action, day)
    # Before anything about the request itself: another agency's people learn nothing of
    # it, not its state nor who decided what.
    if roles_for_action == {Role.OPD} and actor.agency_id != facts.agency_id:
        raise WrongAgency()

    transition = transition_for(action, facts.state)
    if transition is None:
        raise _refuse_state(action, facts, zone)

    held, grant = _capacity(actor, transition.role, day)
    if not held:
        raise _refuse_missing_role(actor, {transition.role}, day)

    if transition.role is Role.OPD and actor.agency_id != facts.agency_id:
        raise WrongAgency()
    if transition.assigned_official_only and not _is_assigned(actor, facts, grant):
        raise NotAssigned()
    if action in APPROVALS and actor.person_id == facts.requester_id:
        raise SelfApproval()
    if action in RATIFICATIONS and actor.person_id in (facts.executor_id,
                                                       facts.report_author_id):
        raise SelfRatification()
    if transition.needs_reason and not (reason or "").strip():
        raise ReasonRequired()
    return Authority(transition, transition.role, grant)


def _is_assigned(actor: Actor, facts: RequestFacts, grant: ActingGrant | None) -> bool:
    if facts.kabid_id is None:
        return True
    if grant is None:
        return actor.person_id == facts.kabid_id
    return grant.principal_id == facts.kabid_id


def _refuse_state(action: Action, facts: RequestFacts, zone: ZoneInfo) -> AlreadyDecided | \
        InvalidState:
    previous = [p for p in facts.history if p.action is action]
    if previous and action not in REPEATABLE:
        last = previous[-1]
        return AlreadyDecided(
            f"Sudah diputuskan: {last.actor_name} telah {ACTION_LABELS[action]} pada "
            f"{waktu(last.at, zone)}. Tidak ada yang diubah."
        )
    return InvalidState(
        f"Permohonan berstatus \"{STATE_LABELS[facts.state]}\"; tidak dapat "
        f"{ACTION_LABELS[action]} sekarang."
    )
