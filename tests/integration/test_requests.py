"""Requests through the services on a real database: the path, refusals, races, timeline."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Container
from bot.db.models import AuditEvent, Deadline, Request
from bot.services.audit.chain import verify_chain
from bot.services.requests.records import (
    MAX_REQUESTS_PER_HOUR,
    NewRequest,
    Scope,
    apply_action,
    submit_request,
    ticket_for,
)
from bot.services.requests.timeline import timeline
from bot.workflow.refusals import (
    AlreadyDecided,
    NotAllowed,
    NotFound,
    Refusal,
    SelfApproval,
    SelfRatification,
    WrongAgency,
)
from bot.workflow.rules import Actor
from bot.workflow.sop import Action, State
from tests.integration.helpers import place_request
from tests.support.clock import WITA
from tests.support.office import NOW

HOSTILE = "<b>x</b> **y** {{ 7*7 }} %s ' OR 1=1; -- \u202eevil\u202c ﷽ e\u0301"


def _events(container: Container) -> int:
    with container.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _submit(container: Container, actor: Actor, system: str = "portal-pendidikan",
            reason: str = "Basis data rusak setelah pembaruan aplikasi") -> int:
    with container.unit_of_work() as session:
        return submit_request(session, actor, NewRequest(system, Scope.DATABASE, reason,
                                                         impact="Layanan terhenti"), NOW,
                              WITA).id


def _act(container: Container, request_id: int, actor: Actor, action: Action,
         minutes: int = 0, **kw: object) -> Request:
    with container.unit_of_work() as session:
        return apply_action(session, request_id, actor, action, NOW + timedelta(minutes=minutes),
                            container.settings.timezone, **kw)  # type: ignore[arg-type]


@pytest.mark.dates
def test_a_request_walks_all_eight_steps_and_its_timeline_shows_each_against_mutu_baku(
        container: Container, actors: dict[str, Actor]) -> None:
    rid = _submit(container, actors["requester"])
    steps = [
        ("kadis", Action.DISPOSE, 20, {"target_id": actors["kabid_a"].person_id}),
        ("kabid_a", Action.ASSIGN, 25, {}),
        ("tim_exec", Action.CHECK_BACKUP, 40, {}),
        ("tim_exec", Action.START_RESTORE, 45, {}),
        ("tim_exec", Action.FINISH_RESTORE, 80, {}),
        ("tim_exec", Action.VERIFY, 85, {}),
        ("tim_exec", Action.SUBMIT_REPORT, 100, {}),
        ("kabid_a", Action.RATIFY, 110, {}),
        ("tim_exec", Action.NOTIFY, 115, {}),
        ("requester", Action.ACKNOWLEDGE, 200, {}),
    ]
    for name, action, minute, kw in steps:
        request = _act(container, rid, actors[name], action, minute, **kw)
    assert request.state == State.ACKNOWLEDGED.value and request.closed_at is not None
    with container.sessions() as session:
        line = timeline(session, request, NOW + timedelta(minutes=300), WITA)
        assert [e.action for e in line.events] == ["submit"] + [a.value for _, a, _, _ in steps]
        spent = {s.step.number: s.spent for s in line.steps}
        assert spent[1] is None  # never returned for revision
        assert spent[2] == timedelta(minutes=20) and spent[3] == timedelta(minutes=5)
        assert spent[4] == timedelta(minutes=15) and spent[5] == timedelta(minutes=45)
        assert spent[6] == timedelta(minutes=25) and spent[7] == timedelta(minutes=5)
        assert spent[8] == timedelta(minutes=85)
        over = {s.step.number for s in line.steps if s.over}
        assert over == {8}  # 85 minutes against 15
        assert session.scalar(select(func.count()).select_from(Deadline)
                              .where(Deadline.closed_at.is_(None))) == 0
        assert verify_chain(session).ok


def test_a_double_tap_records_one_decision(container: Container,
                                           actors: dict[str, Actor]) -> None:
    rid = _submit(container, actors["requester"])
    kabid = actors["kabid_a"].person_id
    _act(container, rid, actors["kadis"], Action.DISPOSE, target_id=kabid)
    before = _events(container)
    with pytest.raises(AlreadyDecided) as refusal:
        _act(container, rid, actors["kadis"], Action.DISPOSE, 1, target_id=kabid)
    assert "Ahmad Rizali" in refusal.value.message
    assert _events(container) == before


def test_two_officials_deciding_at_the_same_moment_make_one_decision(
        container: Container, actors: dict[str, Actor]) -> None:
    rid = _submit(container, actors["requester"])
    results: list[str] = []
    barrier = threading.Barrier(2)

    def decide(name: str, action: Action) -> None:
        barrier.wait()
        try:
            _act(container, rid, actors[name], action, target_id=actors["kabid_a"].person_id,
                 reason="Tidak lengkap")
            results.append(f"ok:{name}")
        except Refusal as refusal:
            results.append(f"refused:{type(refusal).__name__}")

    threads = [threading.Thread(target=decide, args=("kadis", Action.DISPOSE)),
               threading.Thread(target=decide, args=("plh_kadis", Action.REJECT))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.split(":")[0] for r in results) == ["ok", "refused"]
    with container.sessions() as session:
        decisions = session.execute(select(AuditEvent.action).where(
            AuditEvent.request_id == rid, AuditEvent.action != "submit")).scalars().all()
        assert len(decisions) == 1
        request = session.get(Request, rid)
        assert request is not None and request.version == 2
        assert verify_chain(session).ok


def test_a_kadis_who_filed_a_request_cannot_dispose_it(container: Container,
                                                       actors: dict[str, Actor]) -> None:
    rid = _submit(container, actors["kadis_opd"], system="web-kominfo")
    before = _events(container)
    with pytest.raises(SelfApproval):
        _act(container, rid, actors["kadis_opd"], Action.DISPOSE,
             target_id=actors["kabid_a"].person_id)
    assert _events(container) == before
    _act(container, rid, actors["kadis"], Action.DISPOSE, target_id=actors["kabid_a"].person_id)


def test_the_kabid_who_ran_the_restore_cannot_ratify_its_report(
        container: Container, actors: dict[str, Actor]) -> None:
    rid = _submit(container, actors["requester"])
    _act(container, rid, actors["kadis"], Action.DISPOSE, target_id=actors["kabid_tim"].person_id)
    _act(container, rid, actors["kabid_tim"], Action.ASSIGN)
    for action in (Action.CHECK_BACKUP, Action.START_RESTORE, Action.FINISH_RESTORE,
                   Action.VERIFY):
        _act(container, rid, actors["kabid_tim"], action)
    _act(container, rid, actors["tim_other"], Action.SUBMIT_REPORT)
    before = _events(container)
    with pytest.raises(SelfRatification):
        _act(container, rid, actors["kabid_tim"], Action.RATIFY)
    assert _events(container) == before
    with container.sessions() as session:
        request = session.get(Request, rid)
        assert request is not None and request.state == State.REPORT_SUBMITTED.value


@pytest.mark.dates
def test_a_plh_acts_inside_the_window_and_is_recorded_as_acting(
        container: Container, actors: dict[str, Actor]) -> None:
    rid = _submit(container, actors["requester"])
    # The window ends 27 November (WITA); 5 days after NOW is 28 November: refused.
    with pytest.raises(NotAllowed) as refusal:
        _act(container, rid, actors["plh_kadis"], Action.DISPOSE, 5 * 24 * 60,
             target_id=actors["kabid_a"].person_id)
    assert "Plh. Kepala Dinas" in refusal.value.message
    _act(container, rid, actors["plh_kadis"], Action.DISPOSE, 60,
         target_id=actors["kabid_a"].person_id)
    with container.sessions() as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.request_id == rid)
                                .order_by(AuditEvent.seq.desc())).scalars().first()
        assert event is not None and event.actor_role == "kadis"
        assert event.acting == "Plh. Kepala Dinas (menggantikan Ahmad Rizali)"


def test_requests_are_filed_only_for_the_requesters_own_agency(
        container: Container, actors: dict[str, Actor]) -> None:
    with pytest.raises(WrongAgency):
        _submit(container, actors["opd_other"], system="portal-pendidikan")
    with pytest.raises(NotFound):
        _submit(container, actors["requester"], system="tidak-ada")
    with pytest.raises(NotAllowed):
        _submit(container, actors["tim_exec"], system="portal-pendidikan")
    with pytest.raises(NotAllowed):
        _submit(container, actors["requester"], reason="x" * 5001)
    with container.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Request)) == 0


def test_hostile_text_is_stored_exactly_as_typed(container: Container,
                                                 actors: dict[str, Actor]) -> None:
    rid = _submit(container, actors["requester"], reason=HOSTILE)
    with container.sessions() as session:
        request = session.get(Request, rid)
        assert request is not None and request.reason == HOSTILE
        assert verify_chain(session).ok


def test_a_stale_card_is_refused_after_the_request_moved_on(
        container: Container, actors: dict[str, Actor]) -> None:
    rid = _submit(container, actors["requester"])
    _act(container, rid, actors["requester"], Action.CANCEL, expected_version=1)
    with pytest.raises(Refusal):
        _act(container, rid, actors["kadis"], Action.REJECT, reason="x", expected_version=1)


@pytest.mark.dates
def test_a_returned_request_can_be_resubmitted_and_step_one_is_clocked(
        container: Container, actors: dict[str, Actor]) -> None:
    rid = _submit(container, actors["requester"])
    _act(container, rid, actors["kadis"], Action.RETURN, 10, reason="Lampirkan surat")
    with container.sessions() as session:
        deadline = session.execute(select(Deadline).where(
            Deadline.request_id == rid, Deadline.closed_at.is_(None))).scalar_one()
        assert deadline.step == 1 and deadline.due_at == NOW + timedelta(minutes=10, days=1)
    _act(container, rid, actors["opd_colleague"], Action.RESUBMIT, 70)
    with container.sessions() as session:
        request = session.get(Request, rid)
        assert request is not None
        spent = {s.step.number: s.spent for s in timeline(session, request, NOW, WITA).steps}
        assert spent[1] == timedelta(minutes=60)


def test_a_disposition_must_name_a_kabid(container: Container,
                                         actors: dict[str, Actor]) -> None:
    with container.unit_of_work() as session:
        rid = place_request(session, State.SUBMITTED, actors["requester"], actors["kabid_a"],
                            actors["tim_exec"]).id
    for target in (None, actors["tim_exec"].person_id, 999999):
        with pytest.raises(NotAllowed):
            _act(container, rid, actors["kadis"], Action.DISPOSE, target_id=target)
    assert _events(container) == 1  # only the inventory sync


def test_people_are_found_by_numeric_telegram_id_only_while_listed(
        container: Container, actors: dict[str, Actor]) -> None:
    from bot.db.models import Person
    from bot.services.people.actors import actor_by_nip, actor_by_telegram_id
    from bot.workflow.refusals import NotLinked
    from tests.support.office import NIPS

    with container.unit_of_work() as session:
        person = session.execute(select(Person).where(Person.nip == NIPS["kadis"])).scalar_one()
        person.telegram_id = 424242
    with container.sessions() as session:
        found = actor_by_telegram_id(session, 424242)
        assert found.person_id == actors["kadis"].person_id and found.name == "Ahmad Rizali"
        assert actor_by_nip(session, NIPS["kadis"]).roles == actors["kadis"].roles
        with pytest.raises(NotLinked) as refusal:
            actor_by_telegram_id(session, 999)
        assert "admin Diskominfo" in refusal.value.message
    with container.unit_of_work() as session:
        person = session.execute(select(Person).where(Person.nip == NIPS["kadis"])).scalar_one()
        person.active = False
    with container.sessions() as session, pytest.raises(NotLinked):
        actor_by_telegram_id(session, 424242)


@pytest.mark.dates
def test_a_ticket_carries_the_year_of_filing_in_office_time() -> None:
    """16.30 UTC on 31 December is 00.30 WITA on 1 January: the new year's ticket."""
    year = NOW.astimezone(WITA).year
    new_year = datetime(year, 12, 31, 16, 30, tzinfo=UTC)
    assert ticket_for(7, new_year, WITA) == f"PLH-{year + 1}-00007"
    assert ticket_for(7, new_year - timedelta(minutes=31), WITA) == f"PLH-{year}-00007"


def test_a_sixth_request_within_an_hour_is_refused_and_nothing_is_stored(
        container: Container, actors: dict[str, Actor]) -> None:
    for _ in range(MAX_REQUESTS_PER_HOUR):
        _submit(container, actors["requester"])
    with pytest.raises(NotAllowed, match="sudah mengajukan 5 permohonan dalam satu jam"):
        _submit(container, actors["requester"])
    with container.sessions() as session:
        assert session.execute(select(func.count()).select_from(Request)).scalar_one() == 5
    with container.unit_of_work() as session:  # an hour on, the person may file again
        submit_request(session, actors["requester"], NewRequest(
            "portal-pendidikan", Scope.DATABASE, "Rusak lagi"), NOW + timedelta(minutes=61),
            WITA)
