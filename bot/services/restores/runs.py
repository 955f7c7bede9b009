"""Step 5 as a use case: start a restore under a per-system lock, record every phase,
finish (or fail, or cancel) it, roll it back, and recover runs a crash interrupted.

The SSH work happens in `execute`, which blocks: the bot calls it in a worker thread.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import BackupCheck, BackupServer, Person, Request, RestoreRun, System
from bot.durable.partitions import choose_slot
from bot.services.audit.chain import append_event
from bot.services.people.actors import actor_for_person
from bot.services.requests.records import apply_action, ensure_allowed
from bot.services.restores import AGAIN
from bot.services.restores.backups import SystemAccess, system_access
from bot.workflow.refusals import NotFound
from bot.workflow.rules import Actor
from bot.workflow.sop import Action, State
from restore.catalog import find_point
from restore.engine import (
    STAGING_ROOT,
    VERIFIED,
    Outcome,
    Phase,
    Progress,
    RestoreJob,
    live_checked,
)
from restore.errors import Busy, RestoreError
from restore.parked import park
from restore.processes import legacy_pattern, stop_run
from restore.recipes import RunNames, TargetSpec
from restore.recipes.registry import recipe_for
from restore.safety import confined
from restore.ssh import session as ssh_session
from restore.transfer_process import warm

log = logging.getLogger("pulih.restores")
DRILL = "uji"  # restore_runs.kind of a restore drill
# Who a scheduled drill is recorded as started by (no person: the office's schedule).
SCHEDULE = Actor(0, "Jadwal uji pemulihan Pulih", frozenset())


@dataclass(frozen=True)
class RunTicket:
    """What a worker thread needs to carry out a started run."""

    run_id: int
    uid: str
    staging_root: str  # the system's staging folder on the target
    access: SystemAccess
    spec: TargetSpec
    point: str
    digests: dict[str, str]
    manifest: dict[str, Any]
    request_id: int | None
    actor: Actor
    worker: str | None = None  # the restore worker carrying it out (None: this process)
    drill: bool = False  # a restore drill: verified in the shadow, never swapped


def target_spec(system: System) -> TargetSpec:
    return TargetSpec(system.recipe, database=system.database, app_dir=system.app_dir,
                      db_host=system.db_host, db_port=system.db_port, db_user=system.db_user,
                      db_defaults_file=system.db_defaults_file, health_url=system.health_url,
                      db_import_user=system.db_import_user, run_as=system.run_as)


def expect_run(c: Container, system_code: str) -> None:
    """A restore of the system is about to be confirmed (the team member is typing its
    name): the run's own logins to both servers are made now (restore.parked), and where
    its bytes will pass through this host, a transfer process logs in to both as well
    (restore.transfer_process.warm); the run finds that done."""
    with c.sessions() as session:
        try:
            access = system_access(session, system_code, c.settings.timezone)
        except NotFound:
            return
    park(access.backup, access.target)
    if access.pull is None and access.recipe != "postgresql":
        warm(access.backup, access.target)


def start_run(session: Session, access: SystemAccess, check: BackupCheck, actor: Actor,
              now: datetime, zone: ZoneInfo, request_id: int | None = None,
              queued: bool = False) -> RunTicket:
    """Take the system's lock and record the run; Busy if another restore holds it.
    `queued`: it waits in the restore queue (bot.durable) until its turn."""
    if check.system_id != access.system_id or check.status == "failed":
        raise RestoreError("Restore hanya dari titik backup yang lulus pemeriksaan (langkah 4).")
    active = session.execute(select(RestoreRun).where(RestoreRun.lock_key == access.system_id)
                             ).scalar_one_or_none()
    if active is not None and active.kind == DRILL:
        _give_way(session, active, now)
    elif active is not None:
        raise _busy(session, active)
    result = json.loads(check.result)
    run = RestoreRun(request_id=request_id, system_id=access.system_id,
                     backup_check_id=check.id, started_by=actor.person_id,
                     lock_key=access.system_id, status="queued" if queued else "running",
                     phase="", started_at=now,
                     phases="[]", verification="{}", uid=uuid.uuid4().hex)
    session.add(run)
    try:
        session.flush()
    except IntegrityError:
        raise Busy("Restore lain untuk sistem ini baru saja dimulai; tunggu sampai selesai."
                   ) from None
    system = session.get(System, access.system_id)
    assert system is not None
    if request_id is not None:
        apply_action(session, request_id, actor, Action.START_RESTORE, now, zone,
                     data={"run_id": run.id, "point": check.point})
    append_event(session, action="restore_started", now=now, actor_id=actor.person_id,
                 actor_name=actor.name, actor_role="tim", request_id=request_id,
                 data={"run_id": run.id, "system": access.code, "point": check.point,
                       "sha256": result.get("digests", {})})
    return RunTicket(run.id, run.uid or "", system.staging_dir or STAGING_ROOT, access,
                     target_spec(system), check.point,
                     result.get("digests", {}), result.get("manifest", {}), request_id, actor)


def _give_way(session: Session, drill: RestoreRun, now: datetime) -> None:
    """A real restore is asked for while a drill holds the system: the drill stops. One
    still waiting is cancelled at once and the restore goes ahead; one running is told to
    stop (before anything is swapped: a drill never swaps) and the restore is asked for
    again once it has let go, a few seconds later."""
    reason = "restore sungguhan sistem ini diminta; uji pemulihan memberi jalan"
    if drill.status == "queued":
        drill.status, drill.lock_key, drill.finished_at = "cancelled", None, now
        drill.error = f"Dihentikan sebelum mulai: {reason}."
        append_event(session, action="drill_cancelled", now=now, note=drill.error,
                     data={"run_id": drill.id})
        session.flush()  # the lock is free for the restore's own row
        return
    # Recorded in a transaction of its own: the refusal below undoes the caller's.
    with Session(session.get_bind()) as other, other.begin():
        other.execute(update(RestoreRun).where(
            RestoreRun.id == drill.id, RestoreRun.status == "running").values(
            cancel_by=reason[:200]))
    raise Busy(f"Uji pemulihan #{drill.id} sedang berjalan di sistem ini dan kini dihentikan "
               "(data live tidak disentuh uji); ulangi permintaan restore dalam beberapa "
               "detik.")


def _busy(session: Session, active: RestoreRun) -> Busy:
    if active.status == "queued":
        return Busy(f"Restore #{active.id} untuk sistem ini sudah dalam antrean; restore "
                    "kedua ditolak.")
    if active.status == "succeeded":  # told, and still fingerprinting its rollback copy
        return Busy(f"Restore #{active.id} untuk sistem ini baru saja berhasil dan masih "
                    "merapikan server tujuan; coba lagi sebentar lagi.")
    who = session.get(Person, active.started_by) if active.started_by else None
    name = who.name if who else "petugas lain"
    return Busy(f"Restore #{active.id} untuk sistem ini sedang berjalan (dimulai {name}); "
                "restore kedua ditolak.")


@dataclass(frozen=True)
class Place:
    """Where a run waits in the restore queue (bot.durable)."""

    slot: str  # its backup server's slot (bot.durable.partitions)
    priority: int  # its system's: 1 first
    zone: str | None  # its data centre: the system's, else its backup server's


def queue_place(session: Session, run_id: int) -> Place:
    """Where run `run_id` waits in the restore queue: its zone's queue, its backup
    server's least loaded slot (recorded on the run), its system's priority."""
    run = session.get(RestoreRun, run_id)
    assert run is not None
    system = session.get(System, run.system_id)
    assert system is not None and system.backup_server_id is not None
    server = session.get(BackupServer, system.backup_server_id)
    assert server is not None
    load: dict[str, float] = {}
    for slot in session.execute(select(RestoreRun.queue_slot).where(
            RestoreRun.status.in_(("queued", "running")), RestoreRun.id != run_id,
            RestoreRun.queue_slot.is_not(None))).scalars():
        if slot is not None:
            load[slot] = load.get(slot, 0) + 1
    run.queue_slot = choose_slot(server.name, server.max_restores, load)
    return Place(run.queue_slot, system.priority, system.zone or server.zone)


def stranded_runs(c: Container, worker: str) -> list[tuple[int, str]]:
    """Unfinished runs (running, or told and not sealed) that `worker` carries: (id, uid)."""
    with c.sessions() as session:
        rows = session.execute(select(RestoreRun.id, RestoreRun.uid).where(
            RestoreRun.worker == worker, RestoreRun.lock_key.is_not(None),
            RestoreRun.status.in_(("running", "succeeded")))).all()
    return [(run_id, uid or "") for run_id, uid in rows]


def take_queued(c: Container, run_id: int, worker: str | None = None) -> RunTicket | None:
    """Its turn has come: a queued run is marked running (from now, carried by `worker`)
    and its ticket given; None if it is not waiting any more (cancelled meanwhile, or
    settled by recovery)."""
    zone = c.settings.timezone
    with c.unit_of_work() as session:
        taken = session.execute(update(RestoreRun).where(
            RestoreRun.id == run_id, RestoreRun.status == "queued").values(
            status="running", started_at=c.clock(), worker=worker, progress=None,
            cancel_by=None)).rowcount  # type: ignore[attr-defined]
        if not taken:
            return None
        run = session.get(RestoreRun, run_id)
        assert run is not None
        return _ticket(session, run, zone)


def _ticket(session: Session, run: RestoreRun, zone: ZoneInfo) -> RunTicket:
    system = session.get(System, run.system_id)
    check = session.get(BackupCheck, run.backup_check_id or 0)
    person = session.get(Person, run.started_by or 0)
    assert system is not None and check is not None
    assert person is not None or run.kind == DRILL  # a scheduled drill has no person
    result = json.loads(check.result)
    actor = actor_for_person(session, person) if person is not None else SCHEDULE
    return RunTicket(run.id, run.uid or "", system.staging_dir or STAGING_ROOT,
                     system_access(session, system.code, zone), target_spec(system),
                     check.point, result.get("digests", {}), result.get("manifest", {}),
                     run.request_id, actor, run.worker, run.kind == DRILL)


def cancel_queued(c: Container, run_id: int, message: str,
                  then: RunEnd | None = None) -> bool:
    """A run cancelled before its turn came: recorded as cancelled now, its lock let go;
    False if it had already begun (its own cancel then stops it)."""
    zone = c.settings.timezone
    with c.unit_of_work() as session:
        taken = session.execute(update(RestoreRun).where(
            RestoreRun.id == run_id, RestoreRun.status == "queued").values(
            status="cancelled")).rowcount  # type: ignore[attr-defined]
        if not taken:
            return False
        run = session.get(RestoreRun, run_id)
        assert run is not None
        ticket = _ticket(session, run, zone)
    finish_run(c, ticket, Outcome("cancelled", message))
    return True


@dataclass(frozen=True)
class Waiting:
    """A run of a request waiting in the restore queue, or carried out by a worker in
    another process, as its watcher needs it after a restart."""

    ticket: RunTicket
    message: tuple[int, int] | None  # (chat id, message id) of its progress message
    started: datetime
    running: bool = False  # its turn has come (another worker carries it out)


def waiting_runs(c: Container, executor: str | None = None) -> list[Waiting]:
    """Requests' runs waiting in the restore queue, and those a worker other than
    `executor` is carrying out, oldest first."""
    zone = c.settings.timezone
    with c.sessions() as session:
        runs = session.execute(select(RestoreRun).where(
            or_(RestoreRun.status == "queued",
                (RestoreRun.status == "running") & RestoreRun.worker.is_not(None)
                & (RestoreRun.worker != (executor or ""))),
            RestoreRun.request_id.is_not(None)).order_by(RestoreRun.id)).scalars().all()
        found = []
        for run in runs:
            ref = json.loads(run.message_ref) if run.message_ref else None
            found.append(Waiting(_ticket(session, run, zone),
                                 (int(ref["chat"]), int(ref["message"])) if ref else None,
                                 run.started_at, run.status == "running"))
    return found


class DbJournal:
    """Records each phase in the run's row, in its own short transaction."""

    def __init__(self, c: Container, run_id: int, worker: str | None = None) -> None:
        self.c = c
        self.run_id = run_id
        self.worker = worker

    def phase(self, phase: Phase, status: str, detail: str = "") -> None:
        now = self.c.clock()
        with self.c.unit_of_work() as session:
            run = session.get(RestoreRun, self.run_id)
            assert run is not None
            if _taken_from(run, self.worker):
                return
            phases = json.loads(run.phases)
            phases.append({"phase": phase.value, "status": status, "at": now.isoformat(),
                           "detail": detail})
            run.phases = json.dumps(phases, ensure_ascii=False)
            run.phase = phase.value


# Runs in the transaction that records how a request's run ended (the chat's next steps).
RunEnd = Callable[[Session, int, Actor, Outcome], None]


def execute(c: Container, ticket: RunTicket, *,
            cancel: threading.Event | None = None,
            on_progress: Callable[[Progress], None] = lambda p: None,
            staging_root: str | None = None, then: RunEnd | None = None,
            on_settled: Callable[[Outcome], None] = lambda o: None) -> Outcome:
    """Carry out a started run (blocking) and record how it ended. A run that succeeds is
    recorded as soon as the restored data is live and checked, and `on_settled` told;
    the fingerprint of the copy kept for rollback and the clean-up on the target follow,
    and the system's lock is let go only after them (`seal_run`)."""
    journal = DbJournal(c, ticket.run_id, ticket.worker)
    settled: list[Outcome] = []

    def settle(outcome: Outcome) -> None:
        try:
            finish_run(c, ticket, outcome, then, sealed=False)
        except Exception:  # recorded in full at the end instead
            log.exception("hasil restore #%s belum tercatat; dicatat di akhir", ticket.run_id)
            return
        settled.append(outcome)
        try:
            on_settled(outcome)
        except Exception:
            log.exception("pemberitahuan hasil restore #%s gagal", ticket.run_id)

    job = _job(ticket, journal, cancel or threading.Event(), on_progress, settle)
    job.staging_root = staging_root or ticket.staging_root
    outcome = job.run()
    if settled:
        seal_run(c, ticket.run_id, outcome.rollback_digest)
    else:
        finish_run(c, ticket, outcome, then)
    return outcome


def _job(ticket: RunTicket, journal: DbJournal, cancel: threading.Event,
         on_progress: Callable[[Progress], None],
         settle: Callable[[Outcome], None] | None = None) -> RestoreJob:
    source, name = ticket.access.source, ticket.point
    job = RestoreJob(ticket.run_id, ticket.access.target, ticket.access.backup, ticket.spec,
                     lambda remote: find_point(remote, source, name), ticket.digests,
                     ticket.manifest, journal, cancel, on_progress, settled=settle)
    job.uid = ticket.uid
    job.drill = ticket.drill
    job.staging_root = ticket.staging_root
    job.limit = ticket.access.max_rate
    if ticket.access.pull is not None:
        job.pull, job.pull_base = ticket.access.pull, ticket.access.source.directory
    return job


def finish_run(c: Container, ticket: RunTicket, outcome: Outcome,
               then: RunEnd | None = None, sealed: bool = True) -> None:
    """Store the result, move the request along, and (`sealed`: nothing of the run is
    left to do) release the system's lock."""
    now = c.clock()
    zone = c.settings.timezone
    with c.unit_of_work() as session:
        run = session.get(RestoreRun, ticket.run_id)
        assert run is not None
        if _taken_from(run, ticket.worker):
            return
        run.status, run.finished_at = outcome.status, now
        if sealed:
            run.lock_key = None
        run.error = outcome.message if outcome.status != "succeeded" else ""
        run.verification = json.dumps({"shadow": outcome.verification,
                                       "live": outcome.post_check,
                                       "rollback_sha256": outcome.rollback_digest,
                                       **({"said": outcome.message} if ticket.drill else {})},
                                      ensure_ascii=False)
        run.rollback_ref = str(ticket.run_id) if outcome.swapped else ""
        append_event(session, action=f"{'drill' if ticket.drill else 'restore'}_"
                     f"{outcome.status}", now=now,
                     actor_id=ticket.actor.person_id or None, actor_name=ticket.actor.name,
                     actor_role="tim", request_id=ticket.request_id, note=outcome.message,
                     data={"run_id": run.id, "error": outcome.error_code,
                           "rollback_sha256": outcome.rollback_digest})
        if ticket.request_id is None:
            return
        if outcome.status == "succeeded":
            apply_action(session, ticket.request_id, ticket.actor, Action.FINISH_RESTORE, now,
                         zone, data={"run_id": run.id})
            apply_action(session, ticket.request_id, ticket.actor, Action.VERIFY, now, zone,
                         data={"run_id": run.id, "verification": outcome.post_check})
        elif outcome.status == "cancelled":
            apply_action(session, ticket.request_id, ticket.actor, Action.ABORT_RESTORE, now,
                         zone, reason=outcome.message)
        else:
            apply_action(session, ticket.request_id, ticket.actor, Action.FAIL_RESTORE, now,
                         zone, reason=outcome.message)
        if then is not None:
            then(session, ticket.request_id, ticket.actor, outcome)


def _taken_from(run: RestoreRun, worker: str | None) -> bool:
    """Whether the run was taken back from `worker` (found silent) by another, which now
    records it: what this one still does is not recorded."""
    if worker is None or run.worker == worker:
        return False
    log.warning("restore #%s kini dijalankan %s; catatan dari %s diabaikan", run.id,
                run.worker, worker)
    return True


def seal_run(c: Container, run_id: int, digest: str) -> None:
    """A settled run's last record: the fingerprint of the copy kept for rollback (empty:
    it could not be taken), and the system's lock released."""
    with c.unit_of_work() as session:
        run = session.get(RestoreRun, run_id)
        assert run is not None
        run.lock_key = None
        if digest:
            run.verification = json.dumps({**json.loads(run.verification or "{}"),
                                           "rollback_sha256": digest}, ensure_ascii=False)
        append_event(session, action="rollback_copy_sealed", now=c.clock(),
                     request_id=run.request_id,
                     data={"run_id": run_id, "rollback_sha256": digest})


def rollback_run(c: Container, run_id: int, actor: Actor, reason: str,
                 then: Callable[[Session, int], None] | None = None,
                 request_id: int | None = None) -> None:
    """Put back the live state kept by a successful run (blocking: SSH to the target).
    With `request_id` (a button on that request's card), only a run of that request."""
    zone = c.settings.timezone
    with c.sessions() as session:
        run = session.get(RestoreRun, run_id)
        if run is None or run.status not in ("succeeded", "interrupted") or \
                not run.rollback_ref or \
                (request_id is not None and run.request_id != request_id):
            raise NotFound(f"Restore #{run_id} tidak punya salinan untuk rollback.")
        if run.lock_key is not None:
            raise Busy(f"Restore #{run_id} masih mengambil sidik salinan rollback-nya dan "
                       "merapikan server tujuan; coba lagi sebentar lagi.")
        system = session.get(System, run.system_id)
        assert system is not None
        access = system_access(session, system.code, zone)
        spec, request_id = target_spec(system), run.request_id
        names = RunNames(run.id, run.uid or "")
        kept = json.loads(run.verification or "{}").get("rollback_sha256", "")
        if request_id is not None:
            ensure_allowed(session, request_id, actor, Action.ROLLBACK, c.clock(), zone)
    with ssh_session(access.target) as remote:
        recipe = recipe_for(spec)
        if kept and (now_digest := recipe.rollback_digest(remote, names)) != kept:
            raise RestoreError(
                f"Salinan rollback restore #{run_id} berubah sejak restore selesai (sidik "
                f"{now_digest[:16]}..., tercatat {kept[:16]}...). Rollback ditolak agar "
                "perubahan itu tidak menjadi live; periksa salinan itu di server tujuan.")
        recipe.rollback(remote, names)
    now = c.clock()
    with c.unit_of_work() as session:
        done = session.get(RestoreRun, run_id)
        assert done is not None
        done.status, done.rollback_ref = "rolled_back", ""
        # What was live until now (the restored data and whatever was written since) is
        # kept beside it, by the same rule as a rollback copy (services.rollbacks).
        done.verification = json.dumps({**json.loads(done.verification or "{}"),
                                         UNDONE_SINCE: now.isoformat()})
        append_event(session, action="restore_rolled_back", now=now, actor_id=actor.person_id,
                     actor_name=actor.name, actor_role="tim", request_id=request_id,
                     note=reason, data={"run_id": run_id})
        if request_id is not None:
            apply_action(session, request_id, actor, Action.ROLLBACK, now, zone, reason=reason)
            if then is not None:
                then(session, request_id)


UNDONE_SINCE = "undone_kept_since"  # in a rolled-back run's verification: its undone copy


def remember_message(c: Container, run_id: int, chat_id: int, message_id: int) -> None:
    """Record where the chat shows the run's progress."""
    with c.unit_of_work() as session:
        run = session.get(RestoreRun, run_id)
        if run is not None:
            run.message_ref = json.dumps({"chat": chat_id, "message": message_id})


def progress_messages(c: Container, run_ids: list[int]) -> list[tuple[int, int]]:
    """(chat id, message id) of the progress messages of these runs, where recorded."""
    with c.sessions() as session:
        refs = session.execute(select(RestoreRun.message_ref).where(
            RestoreRun.id.in_(run_ids), RestoreRun.message_ref.is_not(None))).scalars().all()
    found = [json.loads(ref) for ref in refs if ref]
    return [(int(ref["chat"]), int(ref["message"])) for ref in found]


# Runs in the transaction that marks a request's run interrupted (who is told).
Interrupted = Callable[[Session, int, Actor, str], None]


@dataclass(frozen=True)
class _CutOff:
    """What settling a run cut off mid-way needs, read from its record."""

    names: RunNames
    request_id: int | None
    started_by: int | None
    swap: set[str]
    before: list[str] | None  # the live state pre-flight saw
    access: SystemAccess
    spec: TargetSpec
    tag: str
    root: str
    verified: dict[str, Any] | None  # what the shadow held, when its verification passed


def _cut_off(session: Session, run: RestoreRun, zone: ZoneInfo) -> _CutOff:
    system = session.get(System, run.system_id)
    assert system is not None
    phases = json.loads(run.phases)
    # Only its last attempt counts (one taken back began again from a clean target).
    again = [n for n, p in enumerate(phases) if p["status"] == AGAIN]
    phases = phases[again[-1] + 1:] if again else phases
    swap = {p["status"] for p in phases if p["phase"] == Phase.SWAP.value}
    seen = [json.loads(p["detail"]) for p in phases if p["status"] == "live"]
    tags = [p["detail"] for p in phases if p["status"] == "tag"]
    verified = [json.loads(p["detail"]) for p in phases
                if p["phase"] == Phase.VERIFY.value and p["status"] == VERIFIED]
    return _CutOff(RunNames(run.id, run.uid or ""), run.request_id, run.started_by, swap,
                   seen[-1] if seen else None, system_access(session, system.code, zone),
                   target_spec(system), tags[-1] if tags else "",
                   system.staging_dir or STAGING_ROOT, verified[-1] if verified else None)


def recover_interrupted(c: Container, then: Interrupted | None = None, *,
                        executor: str | None = None, gone: Collection[str] = ()
                        ) -> list[int]:
    """At start-up: runs left 'running' by a crash are cleaned up and marked interrupted:
    those this process carried (no worker, or `executor`: its own name in the restore
    queue) and those of the workers in `gone`. A run another worker is carrying out is
    left to it."""
    zone = c.settings.timezone
    owners = [RestoreRun.worker.is_(None), RestoreRun.worker.in_([*gone, executor or ""])]
    with c.sessions() as session:
        stale = session.execute(select(RestoreRun).where(
            RestoreRun.status == "running", or_(*owners))).scalars().all()
        work = [_cut_off(session, run, zone) for run in stale]
    recovered = []
    for item in work:
        try:
            swapped, detail = _clean_target(item.access, item.spec, item.names, item.swap,
                                            item.before, item.tag, item.root)
        except RestoreError as exc:
            # The target stays locked until it can be brought to a whole state.
            with c.unit_of_work() as session:
                append_event(session, action="restore_recovery_failed", now=c.clock(),
                             request_id=item.request_id, note=exc.message,
                             data={"run_id": item.names.run_id})
            continue
        message = "Restore terhenti karena bot berhenti di tengah jalan. " + detail
        if _settle_interrupted(c, item, swapped, message, then):
            recovered.append(item.names.run_id)
    seal_settled(c, executor=executor, gone=gone)
    return recovered


def _settle_interrupted(c: Container, item: _CutOff, swapped: bool, message: str,
                        then: Interrupted | None) -> bool:
    """Record a cleaned-up run as interrupted, and move its request along; False if it
    was settled meanwhile by another process."""
    zone = c.settings.timezone
    run_id, request_id, started_by = item.names.run_id, item.request_id, item.started_by
    now = c.clock()
    with c.unit_of_work() as session:
        taken = session.execute(update(RestoreRun).where(
            RestoreRun.id == run_id, RestoreRun.status == "running").values(
            status="interrupted", lock_key=None, finished_at=now, error=message,
            rollback_ref=str(run_id) if swapped else "",
        )).rowcount  # type: ignore[attr-defined]
        if not taken:
            return False
        append_event(session, action="restore_interrupted", now=now,
                     request_id=request_id, note=message, data={"run_id": run_id})
        if request_id is not None and started_by is not None and \
                _state(session, request_id) is State.RESTORING:
            person = session.get(Person, started_by)
            assert person is not None
            actor = actor_for_person(session, person)
            if swapped:  # the restored data is live but unchecked: the team verifies it
                apply_action(session, request_id, actor, Action.FINISH_RESTORE, now, zone,
                             data={"run_id": run_id, "note": message})
            else:
                apply_action(session, request_id, actor, Action.FAIL_RESTORE, now, zone,
                             reason=message)
            if then is not None:
                then(session, request_id, actor, message)
    return True


def take_back(c: Container, run_id: int, worker: str, gone: Collection[str],
              then: RunEnd | None = None, interrupted: Interrupted | None = None
              ) -> RunTicket | Outcome | None:
    """A run that a worker now gone (`gone`; or this one, `worker`, before it was
    restarted) left half done comes round again. What it left on the target is cleaned
    up; then, if the restored data was already live (swapped after a verification that
    passed), the run is finished here: checked as it would have been (put back if that
    fails), recorded, its rollback copy fingerprinted: its Outcome. If it had not been
    swapped, the run starts again from the beginning here: its ticket, to carry out. A
    swap without a recorded verification is settled as interrupted, for the team to
    check. None: nothing more to do (it ended, or another worker carries it)."""
    zone = c.settings.timezone
    with c.sessions() as session:
        run = session.get(RestoreRun, run_id)
        if run is None or run.worker not in (worker, *gone) or run.worker is None:
            return None
        unsealed = run.status == "succeeded" and run.lock_key is not None
        if run.status != "running" and not unsealed:
            return None
        item = _cut_off(session, run, zone)
        previous = run.worker
    if unsealed:  # told, and cut off while fingerprinting its rollback copy: finished here
        seal_settled(c, executor=worker, gone=gone, run_ids=[run_id])
        return None
    swapped, detail = _clean_target(item.access, item.spec, item.names, item.swap,
                                    item.before, item.tag, item.root)
    if swapped and item.verified is None:
        _settle_interrupted(c, item, True, f"Restore terhenti karena worker {previous} "
                            f"berhenti di tengah jalan. {detail}", interrupted)
        return None
    now = c.clock()
    with c.unit_of_work() as session:
        taken = session.execute(update(RestoreRun).where(
            RestoreRun.id == run_id, RestoreRun.status == "running",
            RestoreRun.worker == previous).values(
            worker=worker, progress=None, cancel_by=None,
            **({} if swapped else {"started_at": now}),
        )).rowcount  # type: ignore[attr-defined]
        if not taken:
            return None
        row = session.get(RestoreRun, run_id)
        assert row is not None
        note = (f"dilanjutkan oleh {worker} setelah penggantian; {previous} berhenti. {detail}"
                if swapped else f"diulang oleh {worker}; {previous} berhenti. {detail}")
        phases = json.loads(row.phases)
        phases.append({"phase": (Phase.POSTCHECK if swapped else Phase.PREFLIGHT).value,
                       "status": "note" if swapped else AGAIN, "at": now.isoformat(),
                       "detail": note})
        row.phases = json.dumps(phases, ensure_ascii=False)
        append_event(session, action="restore_taken_back", now=now,
                     request_id=row.request_id, note=detail,
                     data={"run_id": run_id, "from": previous, "to": worker,
                           "swapped": swapped})
        ticket = _ticket(session, row, zone)
    if not swapped:
        return ticket
    assert item.verified is not None
    job = _job(ticket, DbJournal(c, run_id, worker), threading.Event(), lambda p: None)
    outcome = job.finish_swapped(item.verified)
    finish_run(c, ticket, outcome, then)
    return outcome


def seal_settled(c: Container, *, executor: str | None = None, gone: Collection[str] = (),
                 run_ids: Collection[int] | None = None) -> list[int]:
    """At start-up: runs that succeeded, and were told, but stopped before their last
    record (a crash while the copy kept for rollback was fingerprinted): their leftovers
    on the target are removed, the copy fingerprinted as it is now, and the lock let go.
    Only runs this process carried (no worker, or `executor`) and those of the workers in
    `gone`; with `run_ids`, only those. A target that cannot be reached keeps the lock
    (and refuses a rollback) until a later start-up reaches it."""
    zone = c.settings.timezone
    owners = [RestoreRun.worker.is_(None), RestoreRun.worker.in_([*gone, executor or ""])]
    with c.sessions() as session:
        query = select(RestoreRun).where(RestoreRun.status == "succeeded",
                                         RestoreRun.lock_key.is_not(None), or_(*owners))
        if run_ids is not None:
            query = query.where(RestoreRun.id.in_(list(run_ids)))
        unsealed = session.execute(query).scalars().all()
        work = []
        for run in unsealed:
            system = session.get(System, run.system_id)
            assert system is not None
            tags = [p["detail"] for p in json.loads(run.phases) if p["status"] == "tag"]
            work.append((RunNames(run.id, run.uid or ""), run.request_id,
                         system_access(session, system.code, zone), target_spec(system),
                         tags[-1] if tags else "", system.staging_dir or STAGING_ROOT))
    sealed = []
    for names, request_id, access, spec, tag, root in work:
        try:
            _clean_target(access, spec, names, {"started", "done"}, None, tag, root)
            with ssh_session(access.target) as remote:
                digest = recipe_for(spec).rollback_digest(remote, names)
        except RestoreError as exc:
            with c.unit_of_work() as session:
                append_event(session, action="restore_recovery_failed", now=c.clock(),
                             request_id=request_id, note=exc.message,
                             data={"run_id": names.run_id})
            continue
        seal_run(c, names.run_id, digest)
        sealed.append(names.run_id)
    return sealed


def _state(session: Session, request_id: int) -> State:
    request = session.get(Request, request_id)
    assert request is not None
    return State(request.state)


def _clean_target(access: SystemAccess, spec: TargetSpec, names: RunNames,
                  swap: set[str], before: list[str] | None, tag: str,
                  staging_root: str) -> tuple[bool, str]:
    """Bring the target to a whole state: stop what the run still has running there,
    settle a swap cut in half, remove its staging folder and shadow; say what was removed,
    whether the restored data is now live, and (when pre-flight saw it) whether live data
    is as it was, checked again."""
    swapped = "done" in swap
    staging = confined(staging_root, names.key)
    removed: list[str] = []
    with ssh_session(access.target) as remote:
        recipe = recipe_for(spec)
        stopped = stop_run(remote, tag, legacy_pattern(names, staging))
        if stopped:
            removed.append(f"{stopped} proses restore yang masih berjalan dihentikan")
        if "started" in swap and not swapped:
            swapped = recipe.settle_swap(remote, names)
        if remote.run("test", "-e", staging, check=False).status == 0:
            remote.run("rm", "-rf", "--", staging, check=False)
            removed.append(f"folder staging {staging}")
        shadow = recipe.shadow_left(remote, names)
        if shadow is not None:  # after a swap it holds no data (MariaDB: views at most)
            recipe.discard_shadow(remote, names)
            removed.append(f"salinan sementara {shadow}")
        cleaned = ("Dibersihkan: " + "; ".join(removed) + ".") if removed else \
            "Tidak ada sisa restore di server tujuan."
        if not swapped and before is not None:
            return False, live_checked(remote, recipe, before, cleaned)
    if swapped:
        return True, (f"{cleaned} Penggantian sudah terjadi; kondisi sebelumnya tersimpan dan "
                      "dapat di-rollback.")
    return False, (f"{cleaned} Restore berhenti sebelum penggantian, jadi data live tidak "
                   "disentuh.")
