"""Every (actor, state, action): allowed ones succeed with one chained event, others change nothing.

The expectation is written here from the SOP (who may act for whom), independently of
bot.workflow.rules; only the table of transitions is shared, and tests/unit/test_sop.py pins
that table against the SOP itself.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import AuditEvent, Deadline, Request
from bot.services.audit.chain import verify_chain
from bot.services.requests.records import apply_action
from bot.workflow.refusals import Refusal
from bot.workflow.rules import Actor
from bot.workflow.sop import STEPS, TRANSITIONS, WAITING, Action, Role, State
from tests.integration.helpers import place_request, snapshot
from tests.support.office import NOW

# Who may act in each role on a request filed by `requester` (DISDIKBUD), dispositioned to
# kabid_a, restored by tim_exec. Written from the SOP, not from the rules module.
MAY_ACT_AS = {
    Role.OPD: {"requester", "opd_colleague"},               # own agency only
    Role.KADIS: {"kadis", "plh_kadis"},                     # Plh. inside its window
    Role.KABID: {"kabid_a", "plt_kabid"},                   # the assigned one or their Plt.
    Role.TIM: {"tim_exec", "tim_other", "plt_kabid", "kabid_tim"},
}
MATRIX_ACTORS = ["requester", "opd_colleague", "opd_other", "kadis", "kabid_a", "kabid_b",
                 "plh_kadis", "plh_expired", "tim_exec", "tim_other", "plt_kabid", "admin",
                 "auditor", "kabid_tim"]


def expected_allowed(actor: str, state: State, action: Action) -> bool:
    rule = next((t for t in TRANSITIONS if t.action is action and state in t.sources), None)
    return rule is not None and actor in MAY_ACT_AS[rule.role]


def _target(action: Action, actors: dict[str, Actor]) -> int | None:
    return actors["kabid_a"].person_id if action is Action.DISPOSE else None


@pytest.mark.dates
@pytest.mark.parametrize("state", list(State))
def test_every_actor_and_action_in_each_state_is_allowed_or_refused_without_change(
        matrix_container: Container, matrix_actors: dict[str, Actor], state: State) -> None:
    container, actors = matrix_container, matrix_actors
    zone = container.settings.timezone
    with container.unit_of_work() as session:
        request_id = place_request(session, state, actors["requester"], actors["kabid_a"],
                                   actors["tim_exec"]).id
    allowed_seen = 0
    for name in MATRIX_ACTORS:
        for action in Action:
            if action is Action.SUBMIT:
                continue  # creation, not a transition: tests/integration/test_requests.py
            should = expected_allowed(name, state, action)
            session = container.sessions()
            session.begin()
            before = snapshot(session, request_id)
            try:
                request = apply_action(session, request_id, actors[name], action, NOW, zone,
                                       reason="Alasan pengujian",
                                       target_id=_target(action, actors))
            except Refusal as refusal:
                assert not should, f"{name} {action} in {state}: refused: {refusal.message}"
                assert refusal.message.strip()
                session.commit()  # what a caller does after a refusal: nothing must be written
                with container.sessions() as check:
                    assert snapshot(check, request_id) == before, f"{name} {action} changed"
                session.close()
                continue
            assert should, f"{name} {action} in {state} was allowed but should be refused"
            allowed_seen += 1
            rule = next(t for t in TRANSITIONS if t.action is action and state in t.sources)
            after = snapshot(session, request_id)
            assert after.state == rule.target.value == request.state
            assert after.version == before.version + 1
            assert after.events == before.events + 1
            event = session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())
                                    ).scalars().first()
            assert event is not None
            assert (event.action, event.from_state, event.to_state, event.actor_id) == (
                action.value, state.value, rule.target.value, actors[name].person_id)
            assert verify_chain(session).ok
            waiting = WAITING.get(rule.target)
            running = session.execute(select(Deadline).where(
                Deadline.request_id == request_id, Deadline.closed_at.is_(None))).scalars().all()
            if waiting is None:
                assert running == []
            else:
                assert [d.step for d in running] == [waiting.step]
                if WAITING.get(state) is None or WAITING[state].step != waiting.step:
                    assert running[0].due_at == NOW + STEPS[waiting.step].service_time
            session.rollback()
            session.close()
    expected_count = sum(expected_allowed(n, state, a) for n in MATRIX_ACTORS for a in Action
                         if a is not Action.SUBMIT)
    assert allowed_seen == expected_count
    with container.sessions() as session:
        stored = session.get(Request, request_id)
        assert stored is not None and stored.state == state.value
