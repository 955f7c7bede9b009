"""The SOP table as the office wrote it: steps, actors, Mutu Baku, and the request's life."""

from __future__ import annotations

from datetime import timedelta

from bot.workflow.sop import (
    STATE_LABELS,
    STEPS,
    TERMINAL_STATES,
    WAITING,
    Action,
    Role,
    State,
    transition_for,
    transitions_from,
)


def test_mutu_baku_matches_the_sop_table() -> None:
    minutes = {n: s.service_time for n, s in STEPS.items()}
    assert minutes == {
        1: timedelta(days=1), 2: timedelta(minutes=30), 3: timedelta(minutes=10),
        4: timedelta(minutes=30), 5: timedelta(minutes=60), 6: timedelta(minutes=30),
        7: timedelta(minutes=15), 8: timedelta(minutes=15),
    }
    # 190 minutes of office work for steps 2-8, 135 of them technical (steps 4-7).
    assert sum((STEPS[n].service_time for n in range(2, 9)), timedelta()) == timedelta(minutes=190)
    assert sum((STEPS[n].service_time for n in range(4, 8)), timedelta()) == timedelta(minutes=135)


def test_each_step_is_done_by_the_role_the_sop_names() -> None:
    assert [STEPS[n].actor for n in range(1, 9)] == [
        Role.OPD, Role.KADIS, Role.KABID, Role.TIM, Role.TIM, Role.TIM, Role.TIM, Role.OPD]


def test_the_main_path_walks_all_eight_steps_in_order() -> None:
    path = [
        (State.SUBMITTED, Action.DISPOSE, Role.KADIS, State.DISPOSED_TO_KABID),
        (State.DISPOSED_TO_KABID, Action.ASSIGN, Role.KABID, State.ASSIGNED_TO_TEAM),
        (State.ASSIGNED_TO_TEAM, Action.CHECK_BACKUP, Role.TIM, State.BACKUP_CHECKED),
        (State.BACKUP_CHECKED, Action.START_RESTORE, Role.TIM, State.RESTORING),
        (State.RESTORING, Action.FINISH_RESTORE, Role.TIM, State.RESTORED),
        (State.RESTORED, Action.VERIFY, Role.TIM, State.VERIFIED),
        (State.VERIFIED, Action.SUBMIT_REPORT, Role.TIM, State.REPORT_SUBMITTED),
        (State.REPORT_SUBMITTED, Action.RATIFY, Role.KABID, State.REPORT_RATIFIED),
        (State.REPORT_RATIFIED, Action.NOTIFY, Role.TIM, State.NOTIFIED),
        (State.NOTIFIED, Action.ACKNOWLEDGE, Role.OPD, State.ACKNOWLEDGED),
    ]
    for source, action, role, target in path:
        t = transition_for(action, source)
        assert t is not None, (source, action)
        assert (t.role, t.target) == (role, target)
    assert [WAITING[s].step for s, *_ in path] == [2, 3, 4, 5, 5, 5, 6, 6, 7, 8]


def test_side_exits_exist_with_the_right_roles_and_need_a_reason() -> None:
    cases = [
        (State.SUBMITTED, Action.REJECT, Role.KADIS, State.REJECTED),
        (State.DISPOSED_TO_KABID, Action.REJECT, Role.KABID, State.REJECTED),
        (State.SUBMITTED, Action.RETURN, Role.KADIS, State.RETURNED),
        (State.DISPOSED_TO_KABID, Action.RETURN, Role.KABID, State.RETURNED),
        (State.RESTORING, Action.FAIL_RESTORE, Role.TIM, State.RESTORE_FAILED),
        (State.NOTIFIED, Action.REOPEN, Role.OPD, State.REOPENED),
        (State.REPORT_SUBMITTED, Action.RETURN_REPORT, Role.KABID, State.VERIFIED),
        (State.VERIFIED, Action.ROLLBACK, Role.TIM, State.RESTORE_FAILED),
    ]
    for source, action, role, target in cases:
        t = transition_for(action, source)
        assert t is not None and (t.role, t.target) == (role, target)
        assert t.needs_reason
    assert transition_for(Action.CANCEL, State.SUBMITTED) is not None
    # Cancelling is for before the work starts: not once the backup is being checked.
    assert transition_for(Action.CANCEL, State.BACKUP_CHECKED) is None
    assert transition_for(Action.CANCEL, State.RESTORING) is None
    # Rollback is offered after the swap until the requester acknowledges.
    assert transition_for(Action.ROLLBACK, State.NOTIFIED) is not None
    assert transition_for(Action.ROLLBACK, State.ACKNOWLEDGED) is None


def test_every_state_is_reachable_and_only_terminal_states_are_dead_ends() -> None:
    reached, frontier = {State.SUBMITTED}, [State.SUBMITTED]
    while frontier:
        for t in transitions_from(frontier.pop()):
            if t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(State)
    for state in State:
        assert bool(transitions_from(state)) == (state not in TERMINAL_STATES), state
        assert (state in WAITING) == (state not in TERMINAL_STATES), state
        assert STATE_LABELS[state]


def test_no_action_is_ambiguous_from_any_state() -> None:
    for state in State:
        actions = [t.action for t in transitions_from(state)]
        assert len(actions) == len(set(actions)), state
