"""The roster of restore workers: each process that carries out queued restores says it
is alive every few seconds; one silent for longer than PULIH_WORKER_GONE_AFTER is gone,
and the first worker of its zone to notice claims it (one claim wins), so that its
restores are taken up by the living (bot.services.restores.worker)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from bot.bootstrap import Container
from bot.db.models import RestoreRun, RestoreWorker
from bot.errors import PulihError

BEAT = 2.0  # seconds between a worker's signs of life (at most)


def beat_every(c: Container) -> float:
    """Seconds between signs of life: several within the time after which a silent
    worker is gone (PULIH_WORKER_GONE_AFTER; a worker stalled longer is fenced: beat)."""
    return min(BEAT, c.settings.worker_gone_after / 4)


@dataclass(frozen=True)
class Member:
    executor: str
    zone: str | None
    host: str
    pid: int
    started: float
    seen: float


def beat(c: Container, member: Member) -> bool:
    """Say `member` is alive now. False when its row had gone: another worker found it
    silent and took its restores over (it is back in the roster now, and must stop what
    it was carrying out, since that is being done again elsewhere)."""
    now = time.time()
    with c.unit_of_work() as session:
        seen = session.execute(update(RestoreWorker).where(
            RestoreWorker.executor == member.executor).values(
            seen=now, pid=member.pid, host=member.host, zone=member.zone,
        )).rowcount  # type: ignore[attr-defined]
        if seen:
            return True
        session.add(RestoreWorker(executor=member.executor, zone=member.zone,
                                  host=member.host, pid=member.pid,
                                  started=member.started, seen=now))
    return False


def join(c: Container, member: Member) -> None:
    """Enter the roster at start (a row left by this worker's previous life is renewed);
    PulihError if a living worker has the name already."""
    with c.unit_of_work() as session:
        other = session.get(RestoreWorker, member.executor)
        if other is not None and other.seen >= time.time() - c.settings.worker_gone_after and \
                (other.host, other.pid) != (member.host, member.pid) and \
                (other.host != member.host or _running(other.pid)):
            raise PulihError(
                f"Worker bernama {member.executor} sudah berjalan (proses {other.pid} di "
                f"{other.host}); beri worker ini nama lain (--name), atau hentikan yang itu "
                f"dan tunggu {int(c.settings.worker_gone_after)} detik.")
        if other is not None:
            session.delete(other)
            session.flush()
        session.add(RestoreWorker(executor=member.executor, zone=member.zone, host=member.host,
                                  pid=member.pid, started=member.started, seen=time.time()))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def leave(c: Container, executor: str, *, unfinished: bool) -> None:
    """Leave the roster at shutdown; `unfinished`: restores of it are still cut off in
    the middle (its grace ran out), so it is marked silent at once for another worker to
    take them up."""
    with c.unit_of_work() as session:
        if unfinished:
            session.execute(update(RestoreWorker).where(
                RestoreWorker.executor == executor).values(seen=0.0))
        else:
            session.execute(delete(RestoreWorker).where(RestoreWorker.executor == executor))


def claim_gone(c: Container, zone: str | None, executor: str) -> list[str]:
    """The workers of `zone` gone silent, claimed by `executor`: each is removed from the
    roster by exactly one claimant, which then takes its restores up."""
    limit = time.time() - c.settings.worker_gone_after
    claimed = []
    with c.sessions() as session:
        silent = session.execute(select(RestoreWorker.executor, RestoreWorker.seen).where(
            RestoreWorker.seen < limit, RestoreWorker.executor != executor,
            RestoreWorker.zone.is_(None) if zone is None else RestoreWorker.zone == zone,
        )).all()
    for name, seen in silent:
        with c.unit_of_work() as session:
            won = session.execute(delete(RestoreWorker).where(
                RestoreWorker.executor == name, RestoreWorker.seen == seen,
            )).rowcount  # type: ignore[attr-defined]
        if won:
            claimed.append(name)
    return claimed


def gone_workers(c: Container) -> set[str]:
    """Workers named by unfinished restores (running, or told and still sealing) that
    are not alive in the roster (their rows silent or gone)."""
    limit = time.time() - c.settings.worker_gone_after
    with c.sessions() as session:
        named = set(session.execute(select(RestoreRun.worker).where(
            RestoreRun.lock_key.is_not(None), RestoreRun.worker.is_not(None))).scalars())
        alive = set(session.execute(select(RestoreWorker.executor).where(
            RestoreWorker.seen >= limit)).scalars())
    return {name for name in named if name is not None and name not in alive}


def roster(c: Container) -> list[Member]:
    """Every worker in the roster, by name."""
    with c.sessions() as session:
        rows = session.execute(select(RestoreWorker).order_by(RestoreWorker.executor)
                               ).scalars().all()
        return [Member(r.executor, r.zone, r.host, r.pid, r.started, r.seen) for r in rows]


def alive(c: Container, member: Member) -> bool:
    return member.seen >= time.time() - c.settings.worker_gone_after
