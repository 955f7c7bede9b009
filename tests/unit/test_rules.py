"""The pure rules: separation of duties, acting officials' windows, reasons, stale decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

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
from bot.workflow.rules import ActingGrant, Actor, PastAction, RequestFacts, authorize
from bot.workflow.sop import Action, Role, State

WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
REQUESTER = Actor(1, "Andi", frozenset({Role.OPD}), agency_id=10)
KADIS = Actor(2, "Ahmad", frozenset({Role.KADIS}))
KABID = Actor(3, "Fajar", frozenset({Role.KABID}))
TIM = Actor(4, "Dimas", frozenset({Role.TIM}))


def facts(state: State, **kw: object) -> RequestFacts:
    base: dict[str, object] = {"agency_id": 10, "requester_id": 1, "kabid_id": 3}
    base.update(kw)
    return RequestFacts(state=state, **base)  # type: ignore[arg-type]


def test_a_kadis_may_dispose_a_submitted_request() -> None:
    authority = authorize(Action.DISPOSE, facts(State.SUBMITTED, kabid_id=None), KADIS, NOW, WITA)
    assert authority.role is Role.KADIS and authority.acting is None


def test_an_official_cannot_decide_their_own_request() -> None:
    kadis_also_staff = Actor(1, "Budi", frozenset({Role.KADIS, Role.OPD}), agency_id=10)
    with pytest.raises(SelfApproval) as refusal:
        authorize(Action.DISPOSE, facts(State.SUBMITTED), kadis_also_staff, NOW, WITA)
    assert "sendiri" in refusal.value.message


def test_whoever_ran_the_restore_cannot_ratify_its_report() -> None:
    both = Actor(3, "Agus", frozenset({Role.KABID, Role.TIM}))
    with pytest.raises(SelfRatification):
        authorize(Action.RATIFY, facts(State.REPORT_SUBMITTED, executor_id=3), both, NOW, WITA)
    with pytest.raises(SelfRatification):
        authorize(Action.RATIFY, facts(State.REPORT_SUBMITTED, executor_id=4,
                                       report_author_id=3), both, NOW, WITA)
    authorize(Action.RATIFY, facts(State.REPORT_SUBMITTED, executor_id=4, report_author_id=4),
              both, NOW, WITA)


def _plh(starts: date, ends: date) -> Actor:
    return Actor(7, "Hendra", frozenset({Role.KABID}),
                 acting=(ActingGrant(Role.KADIS, 2, "Plh.", starts, ends),))


@pytest.mark.parametrize(("moment", "inside"), [
    # the window is 20-27 November in WITA (UTC+8)
    (datetime(2026, 11, 19, 15, 59, tzinfo=UTC), False),   # 19 Nov 23.59 WITA
    (datetime(2026, 11, 19, 16, 0, tzinfo=UTC), True),     # 20 Nov 00.00 WITA
    (datetime(2026, 11, 27, 15, 59, tzinfo=UTC), True),    # 27 Nov 23.59 WITA
    (datetime(2026, 11, 27, 16, 0, tzinfo=UTC), False),    # 28 Nov 00.00 WITA
])
def test_an_acting_official_acts_only_inside_their_window_in_wita(moment: datetime,
                                                                  inside: bool) -> None:
    plh = _plh(date(2026, 11, 20), date(2026, 11, 27))
    if inside:
        authority = authorize(Action.DISPOSE, facts(State.SUBMITTED, kabid_id=None), plh,
                              moment, WITA)
        assert authority.acting is not None and authority.acting.kind == "Plh."
    else:
        with pytest.raises(NotAllowed) as refusal:
            authorize(Action.DISPOSE, facts(State.SUBMITTED, kabid_id=None), plh, moment, WITA)
        assert "20 November 2026 s.d. 27 November 2026" in refusal.value.message


def test_a_plt_kabid_acts_for_the_kabid_the_request_was_given_to_only() -> None:
    plt = Actor(8, "Yusuf", frozenset({Role.TIM}),
                acting=(ActingGrant(Role.KABID, 3, "Plt.", date(2026, 11, 1), date(2026, 12, 31)),))
    authorize(Action.ASSIGN, facts(State.DISPOSED_TO_KABID, kabid_id=3), plt, NOW, WITA)
    with pytest.raises(NotAssigned):
        authorize(Action.ASSIGN, facts(State.DISPOSED_TO_KABID, kabid_id=5), plt, NOW, WITA)


def test_requesters_act_only_for_their_own_agency() -> None:
    stranger = Actor(9, "Nur", frozenset({Role.OPD}), agency_id=11)
    with pytest.raises(WrongAgency):
        authorize(Action.CANCEL, facts(State.SUBMITTED), stranger, NOW, WITA)
    authorize(Action.CANCEL, facts(State.SUBMITTED), REQUESTER, NOW, WITA)


def test_another_agencys_user_learns_nothing_of_a_decided_request() -> None:
    """A forged "Diterima / Sesuai" on another agency's closed request: the same neutral
    sentence as any other, not who acknowledged it and when."""
    stranger = Actor(9, "Nur", frozenset({Role.OPD}), agency_id=11)
    closed = facts(State.ACKNOWLEDGED,
                   history=(PastAction(Action.ACKNOWLEDGE, "Andi Saputra", NOW),))
    with pytest.raises(WrongAgency) as refused:
        authorize(Action.ACKNOWLEDGE, closed, stranger, NOW, WITA)
    assert "Andi" not in refused.value.message and "Diterima" not in refused.value.message
    with pytest.raises(AlreadyDecided, match="Andi Saputra"):  # the requester is told
        authorize(Action.ACKNOWLEDGE, closed, REQUESTER, NOW, WITA)


def test_rejecting_needs_a_reason() -> None:
    with pytest.raises(ReasonRequired):
        authorize(Action.REJECT, facts(State.SUBMITTED), KADIS, NOW, WITA, reason="  ")
    authorize(Action.REJECT, facts(State.SUBMITTED), KADIS, NOW, WITA, reason="Bukan wewenang")


def test_a_second_identical_decision_is_already_decided_and_names_the_first() -> None:
    history = (PastAction(Action.DISPOSE, "Ahmad", NOW),)
    with pytest.raises(AlreadyDecided) as refusal:
        authorize(Action.DISPOSE, facts(State.DISPOSED_TO_KABID, history=history), KADIS, NOW,
                  WITA)
    assert "Ahmad" in refusal.value.message and "23 November 2026 10.00 WITA" in \
        refusal.value.message


def test_an_action_never_taken_but_out_of_place_is_an_invalid_state() -> None:
    with pytest.raises(InvalidState) as refusal:
        authorize(Action.RATIFY, facts(State.SUBMITTED), KABID, NOW, WITA)
    assert "Diajukan" in refusal.value.message


def test_roles_without_a_part_in_the_sop_are_refused_everything() -> None:
    for role in (Role.ADMIN, Role.AUDITOR):
        someone = Actor(20, "X", frozenset({role}), agency_id=10)
        for action in Action:
            for state in State:
                with pytest.raises(NotAllowed):
                    authorize(action, facts(state), someone, NOW, WITA, reason="x")
