"""`pulih restore`, `pulih rollback`, `pulih recover`: step 5 from a terminal."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TextIO

from bot.bootstrap import Container
from bot.cli.systems import access_for
from bot.db.models import Request, RestoreRun
from bot.services.people.actors import actor_by_nip
from bot.services.requests.records import apply_action, ensure_allowed, find_request
from bot.services.restores.backups import record_check, run_check
from bot.services.restores.rollbacks import kept_copies, prune_rollbacks
from bot.services.restores.runs import execute, recover_interrupted, rollback_run, start_run
from bot.services.restores.worker import BOT_WORKER
from bot.services.restores.workers import gone_workers
from bot.workflow.refusals import NotAllowed
from bot.workflow.rules import Actor
from bot.workflow.sop import Action, Role, State, transition_for
from letters.timefmt import durasi, ukuran, waktu
from restore.check import Verdict
from restore.engine import Progress


def restore_commands(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO,
                     stdin: TextIO) -> int:
    if args.command == "rollbacks":
        return _rollbacks(args, c, out)
    if args.command == "recover":
        # The bot's runs, and those of workers gone silent; a living worker's are its own.
        runs = recover_interrupted(c, executor=BOT_WORKER, gone=gone_workers(c))
        print(f"{len(runs)} restore terhenti dibereskan" + (f": {runs}" if runs else "."),
              file=out)
        with c.sessions() as session:
            for run_id in runs:
                row = session.get(RestoreRun, run_id)
                print(f"- restore #{run_id}: {row.error if row else '-'}", file=out)
        return 0
    with c.sessions() as session:
        actor = actor_by_nip(session, args.nip)
    if Role.TIM not in actor.roles:
        raise NotAllowed("Restore dan rollback hanya dapat dijalankan oleh JFT/Tim Teknis.")
    if args.command == "rollback":
        rollback_run(c, args.run, actor, args.reason)
        print(f"Restore #{args.run} di-rollback: data live kembali ke kondisi sebelum restore.",
              file=out)
        return 0
    return _restore(args, c, actor, out, err, stdin)


def _restore(args: argparse.Namespace, c: Container, actor: Actor, out: TextIO,
             err: TextIO, stdin: TextIO) -> int:
    zone = c.settings.timezone
    request_id = None
    requested = None
    with c.sessions() as session:
        access = access_for(c, session, args.system)
        if args.request:
            request = find_request(session, args.request)
            request_id, requested = request.id, request.recovery_point
            if State(request.state) is not State.BACKUP_CHECKED:
                ensure_allowed(session, request_id, actor, Action.CHECK_BACKUP, c.clock(), zone)
            else:
                ensure_allowed(session, request_id, actor, Action.START_RESTORE, c.clock(), zone)
    if not args.yes:
        out.write(f"Restore {access.name} ({access.code}) dari titik {args.point}. Data live "
                  f"akan diganti setelah salinan baru terverifikasi.\n"
                  f"Ketik nama sistem ({access.code}) untuk melanjutkan: ")
        out.flush()
        if stdin.readline().strip() != access.code:
            print("Dibatalkan: nama sistem tidak cocok. Tidak ada yang diubah.", file=err)
            return 1
    started = c.clock()
    report = run_check(access, args.point, c.clock(), requested)
    if report.verdict is Verdict.FAILED:
        failed = "; ".join(i.detail for i in report.items if i.verdict is Verdict.FAILED)
        print(f"Pemeriksaan backup GAGAL, restore tidak dijalankan: {failed}", file=err)
        with c.unit_of_work() as session:
            record_check(session, access, report, started_at=started, now=c.clock(),
                         actor_id=actor.person_id, actor_name=actor.name, actor_role="tim",
                         request_id=request_id)
        return 1
    with c.unit_of_work() as session:
        check = record_check(session, access, report, started_at=started, now=c.clock(),
                             actor_id=actor.person_id, actor_name=actor.name,
                             actor_role="tim", request_id=request_id)
        if request_id is not None:
            stored = session.get(Request, request_id)
            assert stored is not None
            if transition_for(Action.CHECK_BACKUP, State(stored.state)) is not None:
                apply_action(session, request_id, actor, Action.CHECK_BACKUP, c.clock(), zone,
                             data={"check_id": check.id, "point": report.point})
        ticket = start_run(session, access, check, actor, c.clock(), zone, request_id)
    print(f"Restore #{ticket.run_id} dimulai.", file=out)
    outcome = execute(c, ticket, on_progress=lambda p: _bar(p, err))
    err.write("\n")
    print(outcome.message, file=out if outcome.status == "succeeded" else err)
    if outcome.status == "succeeded":
        print(f"Rollback bila perlu: pulih rollback {ticket.run_id} --nip NIP --reason ALASAN",
              file=out)
        return 0
    return 1


def _bar(progress: Progress, err: TextIO) -> None:
    label = progress.label
    if not progress.total:
        err.write(f"\r{label}...{' ' * 40}")
    else:
        share = progress.done / progress.total
        filled = int(share * 30)
        eta = f", sisa {durasi_seconds(progress.eta)}" if progress.eta is not None else ""
        err.write(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} "
                  f"{ukuran(int(progress.rate))}/s{eta}   ")
    err.flush()


def durasi_seconds(seconds: float) -> str:
    return durasi(timedelta(seconds=int(seconds)))


def _rollbacks(args: argparse.Namespace, c: Container, out: TextIO) -> int:
    zone, now = c.settings.timezone, c.clock()
    if args.rollbacks_command == "prune":
        done = prune_rollbacks(c)
        print(f"{sum(1 for _, what in done if what == 'dihapus')} salinan rollback dihapus.",
              file=out)
        for copy, what in done:
            print(f"- restore #{copy.run_id} ({copy.system_code}, {copy.ticket or '-'}): "
                  f"{copy.what} {what}; {copy.why(now)}", file=out)
        return 0 if all(what == "dihapus" for _, what in done) else 1
    with c.sessions() as session:
        copies = kept_copies(session, timedelta(days=c.settings.rollback_keep_days))
    print(f"{len(copies)} salinan rollback tersimpan.", file=out)
    for copy in copies:
        since = "di-rollback" if copy.undone else "selesai"
        print(f"- restore #{copy.run_id} ({copy.system_code}, {copy.ticket or '-'}): "
              f"{copy.what}, {since} {waktu(copy.done_at, zone)}, disimpan sampai "
              f"{waktu(copy.expires_at, zone)}; "
              f"{'AKAN DIHAPUS: ' if copy.expired(now) else ''}{copy.why(now)}", file=out)
    return 0
