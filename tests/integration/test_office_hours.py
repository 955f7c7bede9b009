"""Mutu Baku in the office's working time: an office that counts steps 2 to 8 in working
hours, a request filed on the Friday at 15.50 before a Monday holiday, and its reminder
and escalation that wait for the office to open; a critical system's restore steps on
clock time; the timeline with both measures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.db.migrate import upgrade
from bot.db.models import Deadline, OutboxMessage, Person, System
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.services.people.actors import actor_by_nip
from bot.services.requests.deadline_alerts import sweep
from bot.services.requests.deadlines import open_deadline, set_deadline_for
from bot.services.requests.records import NewRequest, Scope, apply_action, submit_request
from bot.services.requests.timeline import timeline
from bot.settings import load_settings
from bot.workflow.sop import Action, State
from tests.support.clock import WITA
from tests.support.office import NIPS, write_inventory
from tests.support.workdays import friday_before_a_monday_holiday

pytestmark = pytest.mark.dates

TEAM = -1001000000001
KADIS = 5101


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Container]:
    path = write_inventory(tmp_path / "office")
    path.write_text(path.read_text() + "\n[office_hours]\nworking_time_steps = [2, 3, 4, 5, 6, "
                    "7, 8]\n")
    text = path.read_text().replace('code = "simpeg"\n', 'code = "simpeg"\nrestore_24_7 = true\n')
    path.write_text(text)
    settings = load_settings(environ={
        "PULIH_DATABASE_URL": f"sqlite:///{tmp_path / 'pulih.sqlite3'}",
        "PULIH_DATA_DIR": str(tmp_path / "data"), "PULIH_INVENTORY": str(path)},
        env_file=tmp_path / "absent.env")
    friday, _ = friday_before_a_monday_holiday()
    c = bootstrap(settings, clock=lambda: friday)
    upgrade(c.engine)
    with c.unit_of_work() as session:
        sync_inventory(session, load_inventory(path), friday)
        kadis = session.execute(select(Person).where(Person.nip == NIPS["kadis"])).scalar_one()
        kadis.telegram_id = KADIS
    yield c
    c.close()


def at(day: datetime, hour: int, minute: int) -> datetime:
    return datetime.combine(day.date(), time(hour, minute), WITA)


def told(c: Container, chat_id: int, kind: str) -> int:
    with c.sessions() as session:
        return len(session.execute(select(OutboxMessage).where(
            OutboxMessage.chat_id == chat_id, OutboxMessage.kind == kind)).all())


def swept(c: Container, moment: datetime) -> None:
    with c.unit_of_work() as session:
        sweep(session, moment, WITA, TEAM)


def test_a_friday_request_before_a_monday_holiday_is_due_and_chased_in_working_time(
        office: Container) -> None:
    friday, monday = friday_before_a_monday_holiday()
    tuesday = datetime.combine(monday + timedelta(days=1), time(0), WITA)
    with office.unit_of_work() as session:
        request = submit_request(session, actor_by_nip(session, NIPS["requester"]),
                                 NewRequest("portal-pendidikan", Scope.DATABASE, "Rusak"),
                                 friday, WITA)
        request_id = request.id
        deadline = open_deadline(session, request_id)
        assert deadline is not None and deadline.clock == "kerja"
        # 30 minutes of Mutu Baku from 15.50; Friday's office closes at 16.30.
        assert deadline.due_at == at(friday, 16, 20)

    # Late after closing, on the weekend and on the holiday: nobody is chased.
    for moment in (at(friday, 16, 31), friday + timedelta(days=1, hours=3),
                   datetime.combine(monday, time(10), WITA)):
        swept(office, moment)
        assert told(office, KADIS, "reminder") == 0, moment
    # The office opens on Tuesday: reminded at once; escalated once late by half the Mutu
    # Baku in working time (10 minutes on Friday, 5 on Tuesday: 07.35).
    swept(office, at(tuesday, 7, 31))
    assert told(office, KADIS, "reminder") == 1
    swept(office, at(tuesday, 7, 34))
    with office.sessions() as session:
        assert session.get(Deadline, deadline.id).escalated_at is None  # type: ignore[union-attr]
    swept(office, at(tuesday, 7, 36))
    swept(office, at(tuesday, 7, 40))
    assert told(office, KADIS, "reminder") == 1
    with office.sessions() as session:
        late = session.get(Deadline, deadline.id)
        assert late is not None and late.escalated_at is not None
        assert late.escalation_level == 1

    # The disposition, recorded as made at 16.25 that Friday: step 3's 10 minutes are 5
    # that day and 5 on Tuesday.
    with office.unit_of_work() as session:
        apply_action(session, request_id, actor_by_nip(session, NIPS["kadis"]),
                     Action.DISPOSE, at(friday, 16, 25), WITA,
                     target_id=actor_by_nip(session, NIPS["kabid_a"]).person_id)
        step3 = open_deadline(session, request_id)
        assert step3 is not None and step3.step == 3 and step3.due_at == at(tuesday, 7, 35)
        line = timeline(session, session.get_one(
            type(request), request_id), at(tuesday, 8, 0), WITA)
    by_step = {s.step.number: s for s in line.steps}
    # Step 2 ran from Friday 15.50 to 16.25: 35 minutes either way.
    assert by_step[2].working == by_step[2].spent == timedelta(minutes=35)
    assert by_step[2].over
    # Step 3 has run since 16.25 on Friday: days on the wall, 35 working minutes.
    assert by_step[3].spent is not None and by_step[3].spent > timedelta(days=3)
    assert by_step[3].working == timedelta(minutes=5 + 30)


def test_a_critical_systems_restore_steps_stay_on_clock_time(office: Container) -> None:
    friday, _ = friday_before_a_monday_holiday()
    with office.unit_of_work() as session:
        request = submit_request(session, actor_by_nip(session, NIPS["opd_other"]),
                                 NewRequest("simpeg", Scope.DATABASE, "Rusak"), friday, WITA)
        system = session.execute(select(System).where(System.code == "simpeg")).scalar_one()
        assert system.restore_24_7
        step5 = set_deadline_for(session, request.id, State.BACKUP_CHECKED, friday, WITA)
        assert step5 is not None and step5.clock == "jam"
        assert step5.due_at == friday + timedelta(minutes=60)
        step6 = set_deadline_for(session, request.id, State.VERIFIED, friday, WITA)
        assert step6 is not None and step6.clock == "kerja"  # the report: office hours
