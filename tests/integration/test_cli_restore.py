"""Step 5 from the terminal, recorded like the chat path: restore, lock, rollback, recovery."""

from __future__ import annotations

import io
import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.cli import main
from bot.db.models import AuditEvent, BackupCheck, OutboxMessage, Request, RestoreRun
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.simpeg import States, damaged_simpeg, drop_simpeg, snapshot
from bot.demo.lab.sshd import SshServer
from bot.services.audit.chain import verify_chain
from bot.services.people.actors import actor_by_nip
from bot.services.requests.records import NewRequest, Scope, apply_action, submit_request
from bot.services.restores.backups import record_check, run_check, system_access
from bot.services.restores.rollbacks import warn_expiring
from bot.services.restores.runs import (
    DbJournal,
    RunTicket,
    execute,
    recover_interrupted,
    rollback_run,
    start_run,
)
from bot.settings import load_settings
from bot.workflow.sop import Action
from restore.engine import PULLED, Outcome, Phase
from restore.errors import Busy
from restore.recipes import RunNames
from restore.recipes.registry import recipe_for
from restore.ssh import session as ssh_session
from tests.support.clock import LAST_NIGHT, running
from tests.support.mariadb_lock import ReadLock
from tests.support.networked_office import networked_office
from tests.support.office import NIPS, NOW

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def office(tmp_path: Path, backup_server: SshServer, target_server: SshServer,
           mariadb: MariaDB) -> Iterator[tuple[Path, States]]:
    root = tmp_path / "srv-backup"
    states = damaged_simpeg(mariadb, root, LAST_NIGHT)
    env_file = networked_office(tmp_path, backup_server, target_server, root,
                                system_extra=f'db_host = "{mariadb.socket}"\ndb_user = "root"')
    yield env_file, states
    drop_simpeg(mariadb)


def open_office(env_file: Path) -> Container:
    return bootstrap(load_settings(environ={}, env_file=env_file), running())


def assigned_request(c: Container) -> str:
    zone = c.settings.timezone
    with c.unit_of_work() as session:
        opd = actor_by_nip(session, NIPS["opd_other"])
        request = submit_request(session, opd, NewRequest("simpeg", Scope.DATABASE,
                                                          "Data pegawai rusak"), NOW, zone)
        apply_action(session, request.id, actor_by_nip(session, NIPS["kadis"]), Action.DISPOSE,
                     NOW, zone, target_id=actor_by_nip(session, NIPS["kabid_a"]).person_id)
        apply_action(session, request.id, actor_by_nip(session, NIPS["kabid_a"]), Action.ASSIGN,
                     NOW, zone)
        return request.ticket


def run(env_file: Path, *args: str, typed: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--env-file", str(env_file), *args], out=out, err=err, clock=running(),
                stdin=io.StringIO(typed))
    return code, out.getvalue(), err.getvalue()


def test_a_restore_for_a_request_brings_the_data_back_and_moves_the_request_to_verified(
        office: tuple[Path, States], mariadb: MariaDB) -> None:
    env_file, states = office
    c = open_office(env_file)
    ticket = assigned_request(c)
    code, out, err = run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip", NIPS["tim_exec"],
                         "--request", ticket, typed="simpeg\n")
    assert code == 0, err
    assert "Restore selesai dan terverifikasi" in out
    assert snapshot(mariadb) == states["good"]
    with c.sessions() as session:
        request = session.execute(select(Request)).scalar_one()
        assert request.state == "verified" and request.executor_id is not None
        run_row = session.execute(select(RestoreRun)).scalar_one()
        assert run_row.status == "succeeded" and run_row.lock_key is None
        phases = [p["phase"] for p in json.loads(run_row.phases) if p["status"] == "done"]
        assert phases == ["preflight", "apply", "verify", "swap", "postcheck", "cleanup"]
        actions = session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)
                                  ).scalars().all()
        # The request moves on once the data is live and checked; the fingerprint of the
        # copy kept for rollback is recorded after, and only then is the system free.
        assert actions[-8:] == ["backup_check", "check_backup", "start_restore",
                                "restore_started", "restore_succeeded", "finish_restore",
                                "verify", "rollback_copy_sealed"]
        kept = json.loads(run_row.verification)["rollback_sha256"]
        assert len(kept) == 64
        assert verify_chain(session).ok
    # rollback puts the damaged state back and the request records it
    code, out, err = run(env_file, "rollback", str(run_row.id), "--nip", NIPS["tim_other"],
                         "--reason", "Aplikasi belum kompatibel")
    assert code == 0, err
    assert snapshot(mariadb) == states["damaged"]
    with c.sessions() as session:
        assert session.execute(select(Request)).scalar_one().state == "restore_failed"
    c.close()


def test_a_rollback_copy_changed_after_the_restore_is_not_put_live(
        office: tuple[Path, States], mariadb: MariaDB) -> None:
    env_file, states = office
    code, _, err = run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip", NIPS["tim_exec"],
                       typed="simpeg\n")
    assert code == 0, err
    c = open_office(env_file)
    with c.sessions() as session:
        run_row = session.execute(select(RestoreRun)).scalar_one()
        kept = json.loads(run_row.verification)["rollback_sha256"]
    assert len(kept) == 64
    # Something (a hostile event, a careless hand) edits the copy kept for rollback.
    kept_copy = RunNames(run_row.id, run_row.uid or "").rollback_db
    assert len(run_row.uid or "") == 32 and kept_copy == f"pulih_rb_{run_row.id}_{run_row.uid}"
    mariadb.sql(f"UPDATE {kept_copy}.pegawai SET nama = 'DISABOTASE' LIMIT 1")
    code, _, err = run(env_file, "rollback", str(run_row.id), "--nip", NIPS["tim_other"],
                       "--reason", "Aplikasi belum kompatibel")
    assert code == 1
    assert f"Salinan rollback restore #{run_row.id} berubah sejak restore selesai" in err
    assert snapshot(mariadb) == states["good"]  # the restored data stays live
    with c.sessions() as session:
        again = session.execute(select(RestoreRun)).scalar_one()
        assert (again.status, again.rollback_ref) == ("succeeded", str(run_row.id))
    c.close()


def test_the_typed_confirmation_is_required(office: tuple[Path, States],
                                            mariadb: MariaDB) -> None:
    env_file, states = office
    code, _, err = run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip", NIPS["tim_exec"],
                       typed="ya\n")
    assert code == 1 and "nama sistem tidak cocok" in err
    assert snapshot(mariadb) == states["damaged"]
    c = open_office(env_file)
    with c.sessions() as session:
        assert session.execute(select(RestoreRun)).first() is None
        assert session.execute(select(BackupCheck)).first() is None
    c.close()


def test_someone_outside_the_team_cannot_restore(office: tuple[Path, States],
                                                 mariadb: MariaDB) -> None:
    env_file, states = office
    for nip in (NIPS["kabid_a"], NIPS["opd_other"], NIPS["admin"]):
        code, _, err = run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip", nip, "--yes")
        assert code == 1 and "hanya dapat dijalankan oleh JFT/Tim Teknis" in err
    assert snapshot(mariadb) == states["damaged"]


def test_a_second_restore_of_the_same_system_is_refused_while_one_runs(
        office: tuple[Path, States]) -> None:
    env_file, _ = office
    c = open_office(env_file)
    zone = c.settings.timezone
    with c.sessions() as session:
        access = system_access(session, "simpeg", zone)
    report = run_check(access, LAST_NIGHT, NOW)
    with c.unit_of_work() as session:
        actor = actor_by_nip(session, NIPS["tim_exec"])
        check = record_check(session, access, report, started_at=NOW, now=NOW,
                             actor_id=actor.person_id, actor_name=actor.name, actor_role="tim")
        first = start_run(session, access, check, actor, NOW, zone)
    with c.unit_of_work() as session, pytest.raises(Busy) as refusal:
        other = actor_by_nip(session, NIPS["tim_other"])
        again = session.get(BackupCheck, check.id)
        assert again is not None
        start_run(session, access, again, other, NOW, zone)
    assert f"Restore #{first.run_id}" in refusal.value.message
    assert "Dimas Pratama" in refusal.value.message
    code, _, err = run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip", NIPS["tim_other"],
                       "--yes")
    assert code == 1 and "sedang berjalan" in err
    c.close()


def test_a_run_cut_off_by_a_crash_is_cleaned_up_at_start_up_with_live_data_untouched(
        office: tuple[Path, States], mariadb: MariaDB, target_server: SshServer) -> None:
    env_file, states = office
    c = open_office(env_file)
    names, _ = _crashed_run(c, done=(Phase.PREFLIGHT, Phase.TRANSFER), running=Phase.APPLY)
    run_id, shadow = names.run_id, names.shadow_db
    # What the crash left: a half-filled shadow and a staging folder, mid-apply.
    mariadb.sql(f"CREATE DATABASE {shadow}")
    staging = Path("/var/lib/pulih-staging") / names.key
    staging.mkdir(parents=True)  # the run's own: no other run shares its UUID
    (staging / "simpeg.sql.gz").write_bytes(b"setengah")
    # ...and the import it had started on the target, still running.
    still = subprocess.Popen(["sh", "-c", "sleep 600", shadow])
    c.close()
    # `pulih recover` (or the bot starting again).
    code, out, err = run(env_file, "recover")
    assert code == 0, err
    assert still.wait(timeout=30) != 0  # stopped, not left to run
    assert f"- restore #{run_id}: Restore terhenti" in out
    assert f"Dibersihkan: 1 proses restore yang masih berjalan dihentikan; folder staging " \
           f"{staging}; salinan sementara {shadow}." in out
    assert snapshot(mariadb) == states["damaged"]
    assert shadow not in mariadb.sql("SHOW DATABASES").split()
    assert not staging.exists()
    c = open_office(env_file)
    with c.sessions() as session:
        run_row = session.execute(select(RestoreRun)).scalar_one()
        assert run_row.status == "interrupted" and run_row.lock_key is None
        assert "data live tidak disentuh" in run_row.error.lower()
        assert session.execute(select(Request)).scalar_one().state == "restore_failed"
    assert recover_interrupted(c) == []  # nothing left to recover; a second start is quiet
    c.close()


def test_a_system_stages_in_its_own_folder_and_a_crash_there_is_cleaned_up_too(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        mariadb: MariaDB) -> None:
    root, staging_root = tmp_path / "srv-backup", tmp_path / "pulih-staging"
    states = damaged_simpeg(mariadb, root, LAST_NIGHT)
    try:
        env_file = networked_office(
            tmp_path, backup_server, target_server, root,
            system_extra=f'db_host = "{mariadb.socket}"\ndb_user = "root"\n'
                         f'staging_dir = "{staging_root}"')
        c = open_office(env_file)
        names, _ = _crashed_run(c, done=(Phase.PREFLIGHT,), running=Phase.TRANSFER)
        staging = staging_root / names.key
        staging.mkdir(parents=True)
        (staging / "simpeg.sql.gz").write_bytes(b"setengah")
        c.close()
        code, out, err = run(env_file, "recover")
        assert code == 0 and f"folder staging {staging}" in out, err
        assert not staging.exists()
        code, out, err = run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip",
                             NIPS["tim_exec"], "--yes")
        assert code == 0, err
        assert snapshot(mariadb) == states["good"]
        # Used and emptied; the system's lock file stays (locks are taken on it, never by
        # its presence).
        assert staging_root.is_dir() and [p.name.endswith(".lock")
                                          for p in staging_root.iterdir()] == [True]
        assert not Path("/var/lib/pulih-staging", names.key).exists()
    finally:
        drop_simpeg(mariadb)


def _crashed_run(c: Container, done: tuple[Phase, ...], running: Phase
                 ) -> tuple[RunNames, int]:
    """A run for a request, recorded up to `running` started, as a crash would leave it."""
    ticket, request_id = _started_run(c)
    journal = DbJournal(c, ticket.run_id)
    for phase in done:
        journal.phase(phase, "started")
        journal.phase(phase, "done")
    journal.phase(running, "started")
    return RunNames(ticket.run_id, ticket.uid), request_id


def _started_run(c: Container) -> tuple[RunTicket, int]:
    """A run for an assigned request, started after its backup was checked."""
    zone = c.settings.timezone
    assigned_request(c)
    with c.sessions() as session:
        access = system_access(session, "simpeg", zone)
        request_id = session.execute(select(Request.id)).scalar_one()
    report = run_check(access, LAST_NIGHT, NOW)
    with c.unit_of_work() as session:
        actor = actor_by_nip(session, NIPS["tim_exec"])
        check = record_check(session, access, report, started_at=NOW, now=NOW,
                             actor_id=actor.person_id, actor_name=actor.name, actor_role="tim",
                             request_id=request_id)
        apply_action(session, request_id, actor, Action.CHECK_BACKUP, NOW, zone)
        ticket = start_run(session, access, check, actor, NOW, zone, request_id)
    return ticket, request_id


BEFORE_SWAP = (Phase.PREFLIGHT, Phase.TRANSFER, Phase.APPLY, Phase.VERIFY)


def test_a_crash_after_the_atomic_swap_leaves_the_restore_live_and_undoable(
        office: tuple[Path, States], mariadb: MariaDB) -> None:
    env_file, states = office
    c = open_office(env_file)
    names, _ = _crashed_run(c, BEFORE_SWAP, Phase.SWAP)
    run_id = names.run_id
    # The RENAME went through just before the crash.
    shadow, kept = names.shadow_db, names.rollback_db
    mariadb.sql(f"CREATE DATABASE {shadow}; CREATE DATABASE {kept};"
                f"CREATE TABLE {shadow}.pegawai LIKE simpeg.pegawai;"
                f"INSERT INTO {shadow}.pegawai VALUES (1,'Andi'),(2,'Budi'),(3,'Citra');"
                f"RENAME TABLE simpeg.pegawai TO {kept}.pegawai, {shadow}.pegawai TO "
                "simpeg.pegawai;")
    mariadb.sql(f"CREATE VIEW {shadow}.v AS SELECT 1 AS x")  # what a swap leaves behind
    assert recover_interrupted(c) == [run_id]
    assert snapshot(mariadb) == states["good"]
    assert shadow not in mariadb.sql("SHOW DATABASES").split()
    with c.sessions() as session:
        assert session.execute(select(Request)).scalar_one().state == "restored"
        row = session.execute(select(RestoreRun)).scalar_one()
        assert row.status == "interrupted" and row.rollback_ref == str(run_id)
        assert f"salinan sementara {shadow}" in row.error
    code, _, err = run(env_file, "rollback", str(run_id), "--nip", NIPS["tim_other"],
                       "--reason", "Belum diperiksa")
    assert code == 0, err
    assert snapshot(mariadb) == states["damaged"]
    c.close()


def test_a_crash_before_the_atomic_swap_leaves_live_data_untouched(
        office: tuple[Path, States], mariadb: MariaDB) -> None:
    env_file, states = office
    c = open_office(env_file)
    names, _ = _crashed_run(c, BEFORE_SWAP, Phase.SWAP)
    mariadb.sql(f"CREATE DATABASE {names.shadow_db}; CREATE DATABASE {names.rollback_db};"
                f"CREATE TABLE {names.shadow_db}.pegawai (id INT)")
    assert recover_interrupted(c) == [names.run_id]
    assert snapshot(mariadb) == states["damaged"]
    assert not [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_")]
    with c.sessions() as session:
        assert session.execute(select(Request)).scalar_one().state == "restore_failed"
    c.close()


def test_a_target_that_cannot_be_reached_keeps_the_run_locked_until_it_can(
        office: tuple[Path, States], target_server: SshServer) -> None:
    env_file, _ = office
    c = open_office(env_file)
    run_id = _crashed_run(c, BEFORE_SWAP, Phase.SWAP)[0].run_id
    known = target_server.known_hosts
    original = known.read_text()
    known.write_text("")  # the target cannot be trusted now: recovery must wait
    try:
        assert recover_interrupted(c) == []
        with c.sessions() as session:
            row = session.execute(select(RestoreRun)).scalar_one()
            assert row.status == "running" and row.lock_key is not None
            actions = session.execute(select(AuditEvent.action)).scalars().all()
            assert actions[-1] == "restore_recovery_failed"
    finally:
        known.write_text(original)
    assert recover_interrupted(c) == [run_id]
    c.close()


def test_rollback_copies_stay_until_acknowledged_or_their_time_then_go_recorded(
        office: tuple[Path, States], mariadb: MariaDB) -> None:
    env_file, _ = office
    c = open_office(env_file)

    def at(days: float, *args: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--env-file", str(env_file), *args], out=out, err=err,
                     clock=running(NOW + timedelta(days=days)), stdin=io.StringIO())
        return code, out.getvalue() + err.getvalue()

    def databases() -> list[str]:
        return mariadb.sql("SHOW DATABASES").split()

    assert run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip", NIPS["tim_exec"],
               typed="simpeg\n")[0] == 0
    ticket = assigned_request(c)
    assert run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip", NIPS["tim_exec"],
               "--request", ticket, typed="simpeg\n")[0] == 0
    with c.sessions() as session:
        first, second = session.execute(select(RestoreRun.id).order_by(RestoreRun.id)
                                        ).scalars().all()
        kept = {run.id: RunNames(run.id, run.uid or "").rollback_db
                for run in session.execute(select(RestoreRun)).scalars()}
    code, out = at(0, "rollbacks", "list")
    assert code == 0 and "2 salinan rollback tersimpan." in out
    assert f"restore #{second} (simpeg, {ticket})" in out and "menunggu konfirmasi OPD" in out
    assert at(1, "rollbacks", "prune")[1].startswith("0 salinan rollback dihapus.")
    # The agency acknowledges the second (step 8): its copy is no longer owed.
    with c.unit_of_work() as session:
        request = session.execute(select(Request)).scalar_one()
        request.state = "acknowledged"
    code, out = at(1, "rollbacks", "prune")
    assert code == 0 and "1 salinan rollback dihapus." in out
    assert f"restore #{second} (simpeg, {ticket}): salinan rollback dihapus; permohonan sudah " \
           "selesai" in out
    assert kept[second] not in databases() and kept[first] in databases()
    # A day before the first copy's time runs out, the team hears it; then it goes.
    late = bootstrap(load_settings(environ={}, env_file=env_file),
                     running(NOW + timedelta(days=13, hours=12)))
    assert warn_expiring(late) == 1
    assert warn_expiring(late) == 0  # once
    with late.unit_of_work() as session:
        warned = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "rollback_expiry")).one()
        assert warned.chat_id == late.office.team_chat_id
        assert f"Salinan rollback restore #{first} (simpeg, -) akan dihapus" in warned.payload
    late.close()
    code, out = at(15, "rollbacks", "prune")
    assert f"restore #{first} (simpeg, -): salinan rollback dihapus; masa simpan habis" in out
    assert not [d for d in databases() if d.startswith("pulih_rb_")]
    assert at(15, "rollbacks", "list")[1].startswith("0 salinan rollback tersimpan.")
    with c.sessions() as session:
        removed = session.execute(select(AuditEvent).where(
            AuditEvent.action == "rollback_copy_removed")).scalars().all()
        assert [json.loads(e.data)["run_id"] for e in removed] == [second, first]
        assert all(r.rollback_ref == "" for r in session.execute(select(RestoreRun)).scalars())
        assert verify_chain(session).ok
    c.close()


@pytest.mark.slow
def test_two_installations_restoring_one_system_at_once_the_second_is_refused_cleanly(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        mariadb: MariaDB) -> None:
    """Two Pulih databases (say the bot and a break-glass CLI on another host) restore
    SIMPEG on the same server at the same moment: the second is refused with the reason
    while the first runs, touches nothing of the first's, and goes through once the
    first is done (no lock is left behind)."""
    root, staging_root = tmp_path / "srv-backup", tmp_path / "pulih-staging"
    states = damaged_simpeg(mariadb, root, LAST_NIGHT)
    extra = (f'db_host = "{mariadb.socket}"\ndb_user = "root"\n'
             f'staging_dir = "{staging_root}"')
    first_env, second_env = (networked_office(tmp_path / name, backup_server, target_server,
                                              root, system_extra=extra)
                             for name in ("bot", "darurat"))
    try:
        lock = ReadLock(mariadb)
        with ThreadPoolExecutor(1) as pool:
            try:
                first = pool.submit(run, first_env, "restore", "simpeg", LAST_NIGHT, "--nip",
                                    NIPS["tim_exec"], "--yes")
                c = open_office(first_env)
                deadline = time.monotonic() + 60
                while not _in_phase(c, Phase.APPLY):
                    assert time.monotonic() < deadline and not first.done(), first
                    time.sleep(0.2)
                [first_staging] = [d for d in staging_root.iterdir() if d.is_dir()]
                code, out, err = run(second_env, "restore", "simpeg", LAST_NIGHT, "--nip",
                                     NIPS["tim_other"], "--yes")
                assert code == 1, out
                assert "sedang di-restore" in err and "Pulih lain" in err, err
                assert "belum mengubah apa pun" in err
                assert first_staging.is_dir()  # the first run's staging is left alone
                assert [d for d in staging_root.iterdir() if d.is_dir()] == [first_staging]
                assert not first.done()
            finally:
                lock.release()
            code, out, err = first.result(timeout=180)
        assert code == 0, err
        assert snapshot(mariadb) == states["good"]
        code, out, err = run(second_env, "restore", "simpeg", LAST_NIGHT, "--nip",
                             NIPS["tim_other"], "--yes")
        assert code == 0, err  # the lock went with the first run
        assert [d for d in staging_root.iterdir() if d.is_dir()] == []
        assert not [d for d in mariadb.sql("SHOW DATABASES").split()
                    if d.startswith("pulih_sh_")]  # no shadow left by either
        c.close()
    finally:
        drop_simpeg(mariadb)


def _in_phase(c: Container, phase: Phase) -> bool:
    with c.sessions() as session:
        row = session.execute(select(RestoreRun)).scalar_one_or_none()
        return row is not None and any(p["phase"] == phase.value
                                       for p in json.loads(row.phases or "[]"))


def test_a_system_whose_target_pulls_its_backup_is_restored_that_way_from_the_inventory(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        mariadb: MariaDB) -> None:
    root = tmp_path / "srv-backup"
    states = damaged_simpeg(mariadb, root, LAST_NIGHT)
    key = tmp_path / "tarik_ed25519"
    backup_server.allow_pull(key, root / "simpeg", REPO / "deploy" / "pulih-baca-backup")
    env_file = networked_office(
        tmp_path, backup_server, target_server, root,
        system_extra=f'db_host = "{mariadb.socket}"\ndb_user = "root"\n'
                     f'pull_key = "{key}"\npull_known_hosts = "{backup_server.known_hosts}"')
    try:
        code, _, err = run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip",
                             NIPS["tim_exec"], typed="simpeg\n")
        assert code == 0, err
        assert snapshot(mariadb) == states["good"]
        with open_office(env_file).sessions() as session:
            phases = json.loads(session.execute(select(RestoreRun)).scalar_one().phases)
        assert {"phase": "apply", "status": "note", "detail": PULLED} in [
            {k: p[k] for k in ("phase", "status", "detail")} for p in phases]
    finally:
        drop_simpeg(mariadb)


def test_success_is_told_before_the_rollback_copy_is_fingerprinted_and_rollback_waits_for_it(
        office: tuple[Path, States], mariadb: MariaDB) -> None:
    """The team hears "berhasil" as soon as the restored data is live and checked; the
    fingerprint of the copy kept for rollback is taken after, and until it is recorded a
    rollback is refused with a reason and the system stays locked."""
    env_file, states = office
    c = open_office(env_file)
    ticket, request_id = _started_run(c)
    names = RunNames(ticket.run_id, ticket.uid)
    seen: dict[str, object] = {}

    def on_settled(outcome: Outcome) -> None:
        with c.sessions() as session:
            row = session.get(RestoreRun, names.run_id)
            assert row is not None
            seen["status"], seen["locked"] = row.status, row.lock_key is not None
            seen["kept"] = json.loads(row.verification).get("rollback_sha256")
            request = session.get(Request, request_id)
            seen["request"] = request.state if request else None
            seen["rollback_copy"] = names.rollback_db in mariadb.sql("SHOW DATABASES").split()
            person = actor_by_nip(session, NIPS["tim_other"])
        with pytest.raises(Busy) as refused:
            rollback_run(c, names.run_id, person, "Uji")
        seen["refusal"] = refused.value.message
        with c.unit_of_work() as session, pytest.raises(Busy) as again:
            check = session.execute(select(BackupCheck)).scalars().first()
            assert check is not None
            start_run(session, ticket.access, check, person, NOW, c.settings.timezone)
        seen["second"] = again.value.message
        seen["live"] = snapshot(mariadb) == states["good"]

    outcome = execute(c, ticket, on_settled=on_settled)
    assert outcome.status == "succeeded"
    assert seen == {"status": "succeeded", "locked": True, "kept": "", "request": "verified",
                    "rollback_copy": True, "live": True,
                    "refusal": f"Restore #{names.run_id} masih mengambil sidik salinan "
                               "rollback-nya dan merapikan server tujuan; coba lagi sebentar "
                               "lagi.",
                    "second": f"Restore #{names.run_id} untuk sistem ini baru saja berhasil dan "
                              "masih merapikan server tujuan; coba lagi sebentar lagi."}
    with c.sessions() as session:
        row = session.get(RestoreRun, names.run_id)
        assert row is not None and row.lock_key is None
        kept = json.loads(row.verification)["rollback_sha256"]
    assert kept == outcome.rollback_digest and len(kept) == 64
    with ssh_session(ticket.access.target) as remote:
        assert recipe_for(ticket.spec).rollback_digest(remote, names) == kept
    code, _, err = run(env_file, "rollback", str(names.run_id), "--nip", NIPS["tim_other"],
                       "--reason", "Aplikasi belum kompatibel")
    assert code == 0, err
    assert snapshot(mariadb) == states["damaged"]
    c.close()


def test_a_crash_after_success_was_told_is_sealed_at_start_up(
        office: tuple[Path, States], mariadb: MariaDB) -> None:
    """The bot stopped between telling the team and its last record: the next start
    removes what the run left on the target, fingerprints the copy kept for rollback and
    frees the system, without a second word to the team."""
    env_file, states = office
    c = open_office(env_file)
    code, _, err = run(env_file, "restore", "simpeg", LAST_NIGHT, "--nip", NIPS["tim_exec"],
                       "--yes")
    assert code == 0, err
    with c.unit_of_work() as session:  # as the crash would have left it
        row = session.execute(select(RestoreRun)).scalar_one()
        names = RunNames(row.id, row.uid or "")
        kept = json.loads(row.verification)["rollback_sha256"]
        row.lock_key = row.system_id
        row.verification = json.dumps({**json.loads(row.verification), "rollback_sha256": ""})
    mariadb.sql(f"CREATE DATABASE {names.shadow_db}")  # emptied by the swap, not yet dropped
    assert recover_interrupted(c) == []  # nothing interrupted: the run had succeeded
    with c.sessions() as session:
        row = session.execute(select(RestoreRun)).scalar_one()
        assert row.status == "succeeded" and row.lock_key is None
        assert json.loads(row.verification)["rollback_sha256"] == kept
    assert names.shadow_db not in mariadb.sql("SHOW DATABASES").split()
    assert snapshot(mariadb) == states["good"]
    c.close()
