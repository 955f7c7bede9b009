"""A restore's buttons act only on their own request: "Batal" and "Rollback" carried (or
forged) onto another request's card change nothing and say nothing about that run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Container
from bot.db.models import AuditEvent, RestoreRun
from bot.services.people.actors import actor_by_nip
from bot.services.restores.runs import rollback_run
from bot.workflow.refusals import NotFound
from handlers.restore_runs import LiveRun, RestoreRunner
from tests.support.case_records import walk_to_report
from tests.support.office import NIPS, NOW


def test_rollback_of_another_requests_run_is_refused_and_changes_nothing(
        container: Container) -> None:
    with container.unit_of_work() as session:
        request = walk_to_report(session)
        run = session.execute(select(RestoreRun)).scalar_one()
        run.rollback_ref = f"pulih_rb_{run.id}"
        run_id, own = run.id, request.id
        events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    with container.sessions() as session:
        member = actor_by_nip(session, NIPS["tim_exec"])
    with pytest.raises(NotFound, match=f"Restore #{run_id} tidak punya salinan untuk rollback"):
        rollback_run(container, run_id, member, "tombol dari kartu lain", None, own + 1)
    with container.sessions() as session:
        kept = session.get(RestoreRun, run_id)
        assert kept is not None
        assert (kept.status, kept.rollback_ref) == ("succeeded", f"pulih_rb_{run_id}")
        assert session.execute(select(func.count()).select_from(AuditEvent)
                               ).scalar_one() == events


def test_cancel_of_another_requests_run_is_refused_and_the_run_goes_on(
        container: Container) -> None:
    runner = RestoreRunner(container)
    try:
        live = LiveRun(SimpleNamespace(run_id=7, request_id=1), 0, 0, {},  # type: ignore[arg-type]
                       NOW)
        runner.live[7] = live
        assert not runner.cancel(7, "Siti Nurhaliza", request_id=2)
        assert not live.cancel.is_set() and live.cancelled_by == ""
        assert runner.cancel(7, "Dimas Pratama", request_id=1)
        assert live.cancel.is_set() and live.cancelled_by == "Dimas Pratama"
    finally:
        runner.pool.shutdown(wait=False)
