"""One watch run: every active system's backups looked at (one SSH connection per backup
server, servers side by side), each system's result recorded as soon as it is known, with
an alert queued in the same transaction for a problem it did not have the run before; the
summary last."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import BackupWatch, System, WatchRun
from bot.inventory.model import WatchSettings
from bot.render import render_text
from bot.services.outbox.queue import enqueue
from bot.services.restores.backups import SystemAccess, system_access
from bot.services.watch.schedule import due
from letters.timefmt import local_date
from restore.errors import Cancelled, ConnectionLost, RestoreError
from restore.ssh import session as ssh_session
from restore.watch import Expectation, Finding, Kind, Look, full_check, glance

TRIGGERS = ("jadwal", "cli", "grup")


@dataclass(frozen=True)
class Subject:
    """One system as the run needs it, read before any SSH is made."""

    access: SystemAccess
    expect: Expectation
    full: bool  # its turn for the full check
    carried: tuple[Finding, ...]  # the last full check's findings, for the point it read
    carried_point: tuple[str, int] | None  # that point's name and size


@dataclass
class Result:
    code: str
    name: str
    system_id: int
    server: str  # its backup server's name
    look: Look
    full: bool  # its turn for the full check came (look.full: the check it made)
    seconds: float
    new: list[Finding] = field(default_factory=list)  # not found by the look before

    @property
    def findings(self) -> list[Finding]:
        return sorted(self.look.findings, key=lambda f: Kind.ORDER.index(f.kind))


@dataclass
class Outcome:
    run_id: int
    day: date  # the office's local date
    started: datetime
    results: list[Result]
    seconds: float

    @property
    def troubled(self) -> list[Result]:
        """Systems with a problem, the most urgent first."""
        bad = [r for r in self.results if r.look.findings]
        return sorted(bad, key=lambda r: (Kind.ORDER.index(r.findings[0].kind), r.code))

    @property
    def fine(self) -> list[Result]:
        return sorted((r for r in self.results if not r.look.findings), key=lambda r: r.code)


def watch_backups(c: Container, *, trigger: str, full_all: bool = False,
                  cheap_only: bool = False, codes: Iterable[str] = (),
                  on_result: Callable[[Result], None] | None = None,
                  stop: threading.Event | None = None) -> Outcome | None:
    """Look at every active system's backups (or the named ones), record each, queue the
    alerts and (for the morning's run and the group's) the summary. Blocking: SSH. With
    `stop` set mid-way (the bot stopping), the run ends unfinished and None is returned:
    what was recorded stays, and the morning's watch is run again at the next start.
    `full_all`: every system's full check now; `cheap_only`: none (the turn stays)."""
    assert trigger in TRIGGERS
    zone = c.settings.timezone
    watch = c.office.watch
    team = c.office.team_chat_id
    started, clock = c.clock(), time.monotonic()
    with c.unit_of_work() as session:
        run = WatchRun(trigger=trigger, day=local_date(started, zone), started_at=started)
        session.add(run)
        session.flush()
        run_id = run.id
        subjects = _subjects(session, zone, watch, set(codes),
                             None if cheap_only else full_all)
    results: list[Result] = []
    lock = threading.Lock()

    def record(result: Result) -> None:
        with lock:
            _record(c, run_id, result, team, zone)
            results.append(result)
        if on_result is not None:
            on_result(result)

    by_server: dict[tuple[str, int], list[Subject]] = {}
    for subject in subjects:
        backup = subject.access.backup
        by_server.setdefault((backup.host, backup.port), []).append(subject)
    if by_server:
        with ThreadPoolExecutor(max_workers=min(len(by_server), 4),
                                thread_name_prefix="pulih-watch") as pool:
            for done in [pool.submit(_server, group, c.clock, record, stop)
                         for group in by_server.values()]:
                done.result()
    if stop is not None and stop.is_set():
        return None
    outcome = Outcome(run_id, local_date(started, zone), started,
                      sorted(results, key=lambda r: r.code), time.monotonic() - clock)
    with c.unit_of_work() as session:
        row = session.get(WatchRun, run_id)
        assert row is not None
        row.finished_at = c.clock()
        row.summary = json.dumps({"systems": len(results),
                                  "problems": [r.code for r in outcome.troubled]})
        if trigger != "cli" and results:
            key = f"watch-summary:{row.day.isoformat()}" if trigger == "jadwal" else \
                f"watch-summary:run-{run_id}"
            enqueue(session, key=key, chat_id=team, kind="backup_watch",
                    text=render_text("chat/watch_summary.txt.j2", zone, outcome=outcome),
                    now=c.clock())
    return outcome


def _subjects(session: Session, zone: ZoneInfo, watch: WatchSettings, codes: set[str],
              full_all: bool | None) -> list[Subject]:
    """The systems to look at; `full_all`: every one checked fully (True), the day's share
    in turn (False), none (None)."""
    systems = list(session.execute(
        select(System).where(System.active.is_(True), System.backup_server_id.is_not(None))
        .order_by(System.code)).scalars())
    if codes:
        systems = [s for s in systems if s.code in codes]
    last_full = dict(session.execute(
        select(BackupWatch.system_id, func.max(BackupWatch.checked_at))
        .where(BackupWatch.full.is_(True)).group_by(BackupWatch.system_id)).all())
    # Never fully checked first, then the longest ago: a share a day, so that each has its
    # turn within the cycle when the watch runs daily.
    order = sorted(systems, key=lambda s: (s.id in last_full,
                                           last_full.get(s.id) or datetime.min, s.code))
    share = len(systems) if full_all else math.ceil(len(systems) / watch.full_cycle_days)
    if full_all is None:
        share = 0
    turn = {s.id for s in order[:share]}
    subjects = []
    for system in systems:
        full_row = _latest(session, system.id, full=True)
        carried: tuple[Finding, ...] = ()
        carried_point = None
        if full_row is not None and full_row.point is not None:
            carried = tuple(f for f in _findings(full_row) if f.kind == Kind.CORRUPT)
            carried_point = (full_row.point, full_row.size or 0)
        subjects.append(Subject(
            system_access(session, system.code, zone),
            Expectation(timedelta(hours=system.backup_every_hours),
                        timedelta(hours=watch.grace_hours), watch.shrink),
            system.id in turn, carried, carried_point))
    return subjects


def _latest(session: Session, system_id: int, *, full: bool) -> BackupWatch | None:
    query = select(BackupWatch).where(BackupWatch.system_id == system_id)
    if full:
        query = query.where(BackupWatch.full.is_(True))
    return session.execute(query.order_by(BackupWatch.checked_at.desc(), BackupWatch.id.desc())
                           .limit(1)).scalar_one_or_none()


def _findings(row: BackupWatch) -> list[Finding]:
    return [Finding(f["kind"], f["point"], f["detail"]) for f in json.loads(row.findings)]


def _server(group: list[Subject], clock: Callable[[], datetime],
            record: Callable[[Result], None], stop: threading.Event | None) -> None:
    """One backup server's systems on one connection: the cheap looks first, then the full
    checks of those whose turn it is (each recorded once its look is complete). A server
    that cannot be reached, or drops the connection, is named for each system left."""
    first = group[0].access.backup
    left = {s.access.code for s in group}

    def done(subject: Subject, look: Look, full: bool, seconds: float) -> None:
        if stop is not None and stop.is_set():
            return  # cut short by the stop: not a finding about the backups
        record(_result(subject, look, full, seconds))
        left.discard(subject.access.code)

    looks: dict[str, Look] = {}  # looked at cheaply, full check still to come
    try:
        with ssh_session(first) as remote:
            remote.cancel = stop  # a command under way is abandoned when the bot stops
            later: list[tuple[Subject, float]] = []
            for subject in group:
                if stop is not None and stop.is_set():
                    return
                began = time.monotonic()
                look = glance(remote, subject.access.source, subject.expect, clock())
                if subject.full and look.newest is not None:
                    looks[subject.access.code] = look
                    later.append((subject, time.monotonic() - began))
                    continue
                _carry(subject, look)
                # A system with nothing to check has had its turn all the same: its
                # backups, once back, are checked fully within the cycle.
                done(subject, look, subject.full, time.monotonic() - began)
            for subject, spent in later:
                if stop is not None and stop.is_set():
                    return
                began = time.monotonic()
                look = looks[subject.access.code]
                assert look.newest is not None
                try:
                    full_check(remote, look.newest, subject.access.recipe, clock(), look)
                except (ConnectionLost, Cancelled):
                    raise
                except RestoreError as exc:  # a sidecar it could not read, say
                    look.add(Kind.CORRUPT, look.newest.name,
                             f"Pemeriksaan penuh gagal: {exc.message}")
                done(subject, look, True, spent + time.monotonic() - began)
    except RestoreError as exc:
        if stop is not None and stop.is_set():
            return  # not the server's fault: nothing more is recorded
        for subject in group:
            if subject.access.code in left:
                look = looks.get(subject.access.code) or Look()
                look.add(Kind.UNREACHABLE, "", f"Server backup {first.label} tidak dapat "
                                               f"dibaca: {exc.message}")
                done(subject, look, False, 0.0)


def _carry(subject: Subject, look: Look) -> None:
    """The last full check's verdict on a point still stands while that point is the
    newest (same name and size): a corrupt one stays named until a good one replaces it."""
    newest = look.newest
    if newest is None or subject.carried_point != (newest.name, newest.size):
        return
    have = {f.key for f in look.findings}
    for finding in subject.carried:
        if finding.key not in have:
            look.findings.append(finding)
            have.add(finding.key)


def _result(subject: Subject, look: Look, full: bool, seconds: float) -> Result:
    return Result(subject.access.code, subject.access.name, subject.access.system_id,
                  subject.access.backup.label, look, full, seconds)


def _record(c: Container, run_id: int, result: Result, team: int, zone: ZoneInfo) -> None:
    """The system's row, and in the same transaction the alert for what is new since its
    previous look (so a crash between the two neither loses nor repeats it)."""
    now = c.clock()
    look = result.look
    with c.unit_of_work() as session:
        previous = _latest(session, result.system_id, full=False)
        before = {f.key for f in _findings(previous)} if previous is not None else set()
        result.new = [f for f in result.findings if f.key not in before]
        newest = look.newest
        row = BackupWatch(run_id=run_id, system_id=result.system_id, checked_at=now,
                          point=newest.name if newest else None,
                          point_time=newest.taken_at if newest else None,
                          size=newest.size if newest else None, full=result.full,
                          status="masalah" if look.findings else "baik",
                          findings=json.dumps([f.as_dict() for f in result.findings],
                                              ensure_ascii=False),
                          alerted=json.dumps([f.key for f in result.new]),
                          seconds=round(result.seconds, 3), round_trips=look.round_trips)
        session.add(row)
        session.flush()
        own = [f for f in result.new if f.kind != Kind.UNREACHABLE]
        if own:
            enqueue(session, key=f"watch-alert:{row.id}", chat_id=team, kind="backup_watch",
                    text=render_text("chat/watch_alert.txt.j2", zone, result=result,
                                     new=own), now=now)
        elif result.new:
            # One word per server out of reach, not one per system on it.
            enqueue(session, key=f"watch-unreachable:{run_id}:{result.server}", chat_id=team,
                    kind="backup_watch",
                    text=render_text("chat/watch_unreachable.txt.j2", zone, result=result,
                                     finding=result.new[0]), now=now)


def morning_watch(c: Container, stop: threading.Event | None = None) -> Outcome | None:
    """The day's watch, when it is due (see `schedule.due`); None otherwise."""
    with c.sessions() as session:
        if not due(session, c.clock(), c.settings.timezone, c.office.watch.at):
            return None
    return watch_backups(c, trigger="jadwal", stop=stop)
