"""Restores wait their turn in the restore queue (DBOS on this test's own database): a
backup server's own limit holds, the most urgent system goes first, a run cancelled while
waiting never starts, and one put back in line after its workflow ended runs again. The
work is a stand-in that records when it runs; bot/durable and the run records are real."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from dbos import DBOS
from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import BackupServer, Request, RestoreRun, System
from bot.durable.engine import POSTPONED, DurableQueue, system_database_url
from bot.services.people.actors import actor_by_nip
from bot.services.restores.runs import cancel_queued, queue_place, take_queued
from bot.services.restores.teamwork import after_run, begin_restore
from tests.support.case_records import walk_to_check
from tests.support.office import NIPS, NOW


class Work:
    """The stand-in for carrying out a run: records the order and how many at once; the
    first run holds until `gate` is set."""

    def __init__(self, hold_first: bool = True) -> None:
        self.order: list[int] = []
        self.running = self.most = 0
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.hold_first = hold_first
        self.answer: Callable[[int], str] = lambda run_id: "succeeded"

    def __call__(self, run_id: int) -> str:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.order.append(run_id)
            first = len(self.order) == 1
        if first and self.hold_first:
            self.gate.wait(60)
        time.sleep(0.1)
        with self.lock:
            self.running -= 1
        return self.answer(run_id)


@pytest.fixture
def queue(container: Container) -> Iterator[DurableQueue]:
    settings = container.settings
    durable = DurableQueue(system_database_url(settings.database_url, settings.data_dir),
                           limit=4)
    yield durable
    durable.stop()


def waiting(container: Container, code: str, priority: int) -> tuple[int, str, str, int]:
    """A run of system `code` recorded as waiting in the queue, with its place there."""
    with container.unit_of_work() as session:
        system = session.execute(select(System).where(System.code == code)).scalar_one()
        system.priority = priority
        run = RestoreRun(system_id=system.id, status="queued", phase="", started_at=NOW,
                         phases="[]", verification="{}", uid=uuid.uuid4().hex,
                         lock_key=system.id)
        session.add(run)
        session.flush()
        place = queue_place(session, run.id)
        return run.id, run.uid or "", place.slot, place.priority


def _status(workflow: str) -> str | None:
    found = DBOS.get_workflow_status(workflow)
    return found.status if found else None


def one_at_a_time(container: Container) -> None:
    with container.unit_of_work() as session:
        for server in session.execute(select(BackupServer)).scalars():
            server.max_restores = 1


def one_running(container: Container,
                queue: DurableQueue) -> tuple[Work, tuple[int, str, str, int]]:
    """A queue where each server runs one restore at a time, and simpeg's holding it."""
    one_at_a_time(container)
    work = Work()
    queue.start(work)
    first = waiting(container, "simpeg", 5)
    queue.enqueue(*first)
    until(lambda: work.order == [first[0]])
    return work, first


def until(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_server_allowed_one_restore_runs_its_waiting_ones_most_urgent_first(
        container: Container, queue: DurableQueue) -> None:
    work, first = one_running(container, queue)
    later = waiting(container, "web-kominfo", 9)
    urgent = waiting(container, "portal-pendidikan", 1)
    for run in (later, urgent):
        queue.enqueue(*run)
    assert {first[2], later[2], urgent[2]} == {"backup-dc#0"}  # one slot: one at a time
    time.sleep(0.5)  # the queue looks every 0.05 s: nothing else may start meanwhile
    assert work.order == [first[0]]
    work.gate.set()
    until(lambda: len(work.order) == 3)
    assert work.order == [first[0], urgent[0], later[0]]
    assert work.most == 1


def test_a_server_allowed_two_runs_two_at_once_in_its_two_slots(
        container: Container, queue: DurableQueue) -> None:
    work = Work(hold_first=False)
    work.answer = lambda run_id: "succeeded"
    queue.start(work)
    runs = [waiting(container, code, 5)
            for code in ("simpeg", "web-kominfo", "portal-pendidikan")]
    assert [r[2] for r in runs] == ["backup-dc#0", "backup-dc#1", "backup-dc#0"]
    for run in runs:
        queue.enqueue(*run)
    until(lambda: len(work.order) == 3)
    assert sorted(work.order) == sorted(r[0] for r in runs)
    assert 1 <= work.most <= 2


def test_a_run_cancelled_while_waiting_never_starts(
        container: Container, queue: DurableQueue) -> None:
    work, first = one_running(container, queue)
    dropped = waiting(container, "web-kominfo", 5)
    queue.enqueue(*dropped)
    queue.drop(dropped[1])
    work.gate.set()
    time.sleep(1.0)
    assert work.order == [first[0]]


def test_a_run_put_back_in_line_after_its_workflow_ended_runs_again(
        container: Container, queue: DurableQueue) -> None:
    work = Work(hold_first=False)
    work.answer = lambda run_id: POSTPONED if len(work.order) == 1 else "succeeded"
    queue.start(work)
    run = waiting(container, "simpeg", 5)
    queue.enqueue(*run)
    until(lambda: work.order == [run[0]])
    until(lambda: _status(f"restore-{run[1]}") == "SUCCESS")  # ended, not carried out
    queue.enqueue(*run)  # as the next start does for a run still recorded as waiting
    queue.enqueue(*run)  # ... and twice is still once
    until(lambda: len(work.order) == 2)
    time.sleep(0.5)
    assert work.order == [run[0], run[0]]


def test_a_run_cancelled_while_waiting_is_settled_at_once_and_its_turn_finds_it_gone(
        container: Container) -> None:
    with container.unit_of_work() as session:
        request, check = walk_to_check(session)
        request_id, version, check_id = request.id, request.version, check.id
        member = actor_by_nip(session, NIPS["tim_exec"])
    ticket = begin_restore(container, request_id, member, check_id, version, queued=True)
    with container.sessions() as session:
        run = session.get(RestoreRun, ticket.run_id)
        assert run is not None and (run.status, run.lock_key) == ("queued", run.system_id)
        assert session.get(Request, request_id).state == "restoring"  # type: ignore[union-attr]
    said = "Restore dibatalkan sebelum gilirannya tiba; data live tidak disentuh."
    assert cancel_queued(container, ticket.run_id, said, after_run(container))
    assert not cancel_queued(container, ticket.run_id, said)  # a double tap: nothing more
    assert take_queued(container, ticket.run_id) is None  # its turn comes: nothing to do
    with container.sessions() as session:
        run = session.get(RestoreRun, ticket.run_id)
        assert run is not None
        assert (run.status, run.lock_key, run.error) == ("cancelled", None, said)
        assert session.get(Request, request_id).state == "backup_checked"  # type: ignore[union-attr]


def test_a_run_whose_turn_came_is_not_cancelled_as_waiting(container: Container) -> None:
    with container.unit_of_work() as session:
        request, check = walk_to_check(session)
        request_id, version, check_id = request.id, request.version, check.id
        member = actor_by_nip(session, NIPS["tim_exec"])
    ticket = begin_restore(container, request_id, member, check_id, version, queued=True)
    taken = take_queued(container, ticket.run_id)
    assert taken is not None and taken.point == ticket.point and taken.uid == ticket.uid
    assert not cancel_queued(container, ticket.run_id, "terlambat")
    with container.sessions() as session:
        assert session.get(RestoreRun, ticket.run_id).status == "running"  # type: ignore[union-attr]
