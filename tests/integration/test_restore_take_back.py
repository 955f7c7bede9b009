"""A restore whose worker died is taken up by another worker from where the record and
the target say it stood: after its swap, it is checked and finished (not redone); after
it was told, only its rollback copy is fingerprinted and its lock let go; one whose step
ended without being recorded is taken up again by its own worker. The records are
left as a worker killed at that moment leaves them; the target is real (SSH, MariaDB)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.bootstrap import Container, bootstrap
from bot.cli import main
from bot.db.models import AuditEvent, RestoreRun
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.simpeg import States, damaged_simpeg, drop_simpeg, snapshot
from bot.demo.lab.sshd import SshServer
from bot.durable.engine import DurableQueue, system_database_url
from bot.services.people.actors import actor_by_nip
from bot.services.restores import AGAIN
from bot.services.restores.runs import rollback_run, take_back
from bot.services.restores.worker import RestoreWorker
from bot.services.restores.workers import gone_workers
from bot.settings import load_settings
from restore.engine import VERIFIED, Outcome, Phase
from restore.recipes import RunNames
from tests.support.clock import LAST_NIGHT, running
from tests.support.networked_office import networked_office
from tests.support.office import NIPS


@pytest.fixture
def restored(tmp_path: Path, backup_server: SshServer, target_server: SshServer,
             mariadb: MariaDB) -> Iterator[tuple[Container, States, int]]:
    """SIMPEG restored once (by `pulih restore`), its run as a worker named `mati` left
    it; the office, SIMPEG's states and the run's number."""
    root = tmp_path / "srv-backup"
    states = damaged_simpeg(mariadb, root, LAST_NIGHT)
    env_file = networked_office(tmp_path, backup_server, target_server, root,
                                system_extra=f'db_host = "{mariadb.socket}"\ndb_user = "root"')
    out = io.StringIO()
    code = main(["--env-file", str(env_file), "restore", "simpeg", LAST_NIGHT, "--nip",
                 NIPS["tim_exec"], "--yes"], out=out, err=out, clock=running())
    assert code == 0, out.getvalue()
    c = bootstrap(load_settings(environ={}, env_file=env_file), running())
    with c.unit_of_work() as session:
        run = session.execute(select(RestoreRun)).scalar_one()
        session.execute(update(RestoreRun).where(RestoreRun.id == run.id).values(
            worker="mati"))
        run_id = run.id
    try:
        yield c, states, run_id
    finally:
        c.close()
        drop_simpeg(mariadb)


def test_a_restore_cut_off_after_its_swap_is_checked_and_finished_by_another_worker(
        restored: tuple[Container, States, int], mariadb: MariaDB) -> None:
    c, states, run_id = restored
    # As the dead worker left it: swapped, not yet checked after the swap, still locked.
    with c.unit_of_work() as session:
        run = session.get(RestoreRun, run_id)
        assert run is not None
        phases = json.loads(run.phases)
        assert any(p["status"] == VERIFIED for p in phases)
        cut = max(n for n, p in enumerate(phases)
                  if p["phase"] == Phase.SWAP.value and p["status"] == "done")
        run.phases = json.dumps(phases[:cut + 1])
        run.status, run.lock_key, run.finished_at = "running", run.system_id, None
        run.verification = "{}"
    assert snapshot(mariadb) == states["good"]  # the restored data is live
    assert gone_workers(c) == {"mati"}

    finished = take_back(c, run_id, "dc-2", gone_workers(c))

    assert isinstance(finished, Outcome) and finished.status == "succeeded", finished
    with c.sessions() as session:
        run = session.get(RestoreRun, run_id)
        assert run is not None
        assert (run.status, run.worker, run.lock_key) == ("succeeded", "dc-2", None)
        assert json.loads(run.verification)["rollback_sha256"] == finished.rollback_digest
        after = json.loads(run.phases)[cut + 1:]
        assert [(p["phase"], p["status"]) for p in after][:3] == [
            ("postcheck", "note"), ("postcheck", "started"), ("postcheck", "done")]
        assert "dilanjutkan oleh dc-2 setelah penggantian; mati berhenti" in after[0]["detail"]
        moved = session.execute(select(AuditEvent).where(
            AuditEvent.action == "restore_taken_back")).scalar_one()
        assert json.loads(moved.data)["swapped"] is True
    assert snapshot(mariadb) == states["good"]  # not restored a second time, and whole
    kept = RunNames(run_id, run.uid or "").rollback_db
    assert kept in mariadb.sql("SHOW DATABASES").split()
    assert not [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_sh_")]


def test_a_restore_told_and_cut_off_while_sealing_is_sealed_by_another_worker(
        restored: tuple[Container, States, int], mariadb: MariaDB) -> None:
    c, states, run_id = restored
    with c.unit_of_work() as session:
        run = session.get(RestoreRun, run_id)
        assert run is not None
        run.lock_key = run.system_id  # told, its rollback copy not yet fingerprinted
        run.verification = json.dumps({"shadow": {}, "live": {}, "rollback_sha256": ""})

    assert take_back(c, run_id, "dc-2", gone_workers(c)) is None

    with c.sessions() as session:
        run = session.get(RestoreRun, run_id)
        assert run is not None and run.lock_key is None and run.status == "succeeded"
        assert len(json.loads(run.verification)["rollback_sha256"]) == 64
    assert snapshot(mariadb) == states["good"]
    # A worker still alive keeps its own: nothing is taken from it.
    with c.unit_of_work() as session:
        session.execute(update(RestoreRun).where(RestoreRun.id == run_id).values(
            lock_key=run.system_id, worker="hidup"))
    assert take_back(c, run_id, "dc-2", set()) is None
    with c.sessions() as session:
        assert session.get(RestoreRun, run_id).lock_key is not None  # type: ignore[union-attr]


def test_a_restore_whose_step_ended_unrecorded_is_taken_up_again_by_its_own_worker(
        restored: tuple[Container, States, int], mariadb: MariaDB) -> None:
    """As a worker leaves a run whose step failed mid-import (its database gone for a
    moment): still running and locked under its name, its workflow ended, in line
    nowhere. The worker's sweep puts it in line again; it is cleaned up and redone."""
    c, states, run_id = restored
    with c.sessions() as session:
        member = actor_by_nip(session, NIPS["tim_exec"])
    rollback_run(c, run_id, member, "uji: kembali ke keadaan rusak")
    assert snapshot(mariadb) == states["damaged"]
    with c.unit_of_work() as session:
        run = session.get(RestoreRun, run_id)
        assert run is not None
        phases = json.loads(run.phases)
        cut = next(n for n, p in enumerate(phases)
                   if p["phase"] == Phase.APPLY.value and p["status"] == "started")
        run.phases = json.dumps(phases[:cut + 1])
        run.status, run.lock_key, run.finished_at = "running", run.system_id, None
        run.worker, run.rollback_ref, run.verification = "w-uji", "", "{}"
    settings = c.settings
    worker = RestoreWorker(c, DurableQueue(
        system_database_url(settings.database_url, settings.data_dir), limit=2,
        executor="w-uji"))
    worker.start()
    try:
        deadline = time.monotonic() + 120
        while True:
            with c.sessions() as session:
                run = session.get(RestoreRun, run_id)
                assert run is not None
                if run.lock_key is None:
                    break
            assert time.monotonic() < deadline, run.phases
            time.sleep(0.2)
    finally:
        worker.stop()
    assert (run.status, run.worker) == ("succeeded", "w-uji")
    again = [p for p in json.loads(run.phases) if p["status"] == AGAIN]
    assert len(again) == 1 and "diulang oleh w-uji" in again[0]["detail"]
    assert snapshot(mariadb) == states["good"]
    assert not [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_sh_")]
