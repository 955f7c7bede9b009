"""Mass restore after a data-centre incident (issue 19): 40 small systems restored at once
through the restore queue by `pulih worker` processes, as after PDNS 2.

    python3 benchmarks/mass_restore.py [--systems 40] [--rate "512 KB/s"] [--rows 200000]

On this machine: two backup servers and one target as three sshd on 127.0.0.1, the
target's MariaDB and PostgreSQL, Pulih's records and the queue in that PostgreSQL (as
workers on several hosts share one). The systems (bot/demo/lab/fleet.py: MariaDB,
PostgreSQL and files recipes in turn, half on each backup server) are damaged, checked
(step 4), and all put in line at once; K = 2 restores per backup server, N = 4 in all, a
cap of `--rate` per restore so that each copy lasts long enough to be seen. Three rounds:
one worker process, two, and two of which one is killed (SIGKILL) a third of the way in.

Printed per round: the makespan against the ideal for these limits (the sum of the
restores' own times over the capacity, min(N, K x servers)); the most restores seen at
once reading from each backup server, sampled every 20 ms from the servers' own process
lists (the `cat` of a backup file under that sshd), never from Pulih's records; the
engine's cost per restore with the queue wait left out (the hand-over: from one restore's
end to the next one's start in the same slot while others wait; the bookkeeping: a run's
time outside its own phases); and that every system's live data is the backup's, by
digest. The third round also shows that the killed worker's restores were done again by
the other, one run each, never two readers of one system at once. Needs root,
openssh-server, mariadb-server and postgresql.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bot.bootstrap import Container, bootstrap  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import AuditEvent, BackupCheck, Person, RestoreRun, RestoreWorker  # noqa: E402
from bot.demo.lab.fleet import Fleet, make_fleet  # noqa: E402
from bot.demo.lab.loopback import without_office_env  # noqa: E402
from bot.demo.lab.mariadb import mariadb_server  # noqa: E402
from bot.demo.lab.postgres import create_database, postgres_server  # noqa: E402
from bot.demo.lab.sshd import SshServer, ssh_server  # noqa: E402
from bot.demo.office_lab import latest_point  # noqa: E402
from bot.durable.engine import DurableQueue, system_database_url  # noqa: E402
from bot.inventory.loader import load_inventory  # noqa: E402
from bot.services.office.inventory_sync import sync_inventory  # noqa: E402
from bot.services.people.actors import actor_for_person  # noqa: E402
from bot.services.restores import AGAIN  # noqa: E402
from bot.services.restores.backups import record_check, run_check, system_access  # noqa: E402
from bot.services.restores.runs import queue_place, start_run  # noqa: E402
from bot.settings import load_settings  # noqa: E402

WITA = ZoneInfo("Asia/Makassar")
K, N = 2, 4
SERVERS = ("backup-a", "backup-b")
AGENCIES = ("BKPSDM", "DISDIKBUD", "DISDUKCAPIL", "DINKES", "BAPENDA", "DPMPTSP")
MEMBER = "199001012015031001"
GONE_AFTER = 8  # seconds a worker may be silent (PULIH_WORKER_GONE_AFTER), short here
WAIT = 1800.0


def head() -> str:
    agencies = "\n".join(f'[[agencies]]\ncode = "{a}"\nname = "Instansi {a}"\n'
                         for a in AGENCIES)
    return f'''[office]
code = "DISKOMINFO"
name = "Dinas Komunikasi dan Informatika"
address = ["Jalan Wolter Monginsidi No. 1", "Tenggarong"]

[team]
group_chat_id = -1001000000001

{agencies}
[[people]]
nip = "{MEMBER}"
name = "Dimas Pratama"
roles = ["tim"]
agency = "DISKOMINFO"
'''


@dataclass
class Lab:
    folder: Path
    fleet: Fleet
    env_file: Path
    container: Container
    sshd_pids: dict[str, int]  # backup server name -> its sshd's pid
    check_ids: dict[str, int] = field(default_factory=dict)


@contextmanager
def lab(folder: Path, systems: int, rate: str, rows: int) -> Iterator[Lab]:
    with ExitStack() as stack:
        stack.enter_context(without_office_env())
        backups: dict[str, SshServer] = {
            name: stack.enter_context(ssh_server(folder / f"sshd-{name}", name))
            for name in SERVERS}
        target = stack.enter_context(ssh_server(folder / "sshd-vps", "vps"))
        mariadb = stack.enter_context(mariadb_server(folder / "mariadb"))
        pg = stack.enter_context(postgres_server(folder / "pg"))
        point = latest_point(datetime.now(UTC), WITA)
        print(f"Menyiapkan {systems} sistem...", flush=True)
        fleet = make_fleet(folder / "fleet", backups, target, mariadb, pg, list(AGENCIES),
                           systems, point, rows=rows)
        inventory = folder / "inventory.toml"
        inventory.write_text(fleet.inventory_text(head(), max_restores=K, max_rate=rate))
        database = create_database(pg, "pulih")
        env_file = folder / "pulih.env"
        env_file.write_text(f"PULIH_DATABASE_URL={database}\nPULIH_INVENTORY={inventory}\n"
                            f"PULIH_DATA_DIR={folder / 'data'}\nPULIH_RESTORES_AT_ONCE={N}\n"
                            f"PULIH_WORKER_GONE_AFTER={GONE_AFTER}\nPULIH_LOG_LEVEL=WARNING\n")
        container = bootstrap(load_settings(environ={}, env_file=env_file))
        stack.callback(container.close)
        upgrade(container.engine)
        with container.unit_of_work() as session:
            sync_inventory(session, load_inventory(inventory), datetime.now(UTC))
        yield Lab(folder, fleet, env_file, container,
                  {name: server.process.pid for name, server in backups.items()})


def check_all(lab: Lab) -> None:
    """Step 4 for every system, once: the restores of every round start from these."""
    c = lab.container
    zone = c.settings.timezone
    for system in lab.fleet.systems:
        with c.sessions() as session:
            access = system_access(session, system.code, zone)
        started = c.clock()
        report = run_check(access, lab.fleet.point, c.clock())
        with c.unit_of_work() as session:
            row = record_check(session, access, report, started_at=started, now=c.clock(),
                               actor_id=None, actor_name="benchmark", actor_role="cli")
            lab.check_ids[system.code] = row.id
        assert report.verdict.value != "failed", (system.code, report)


class Sampler:
    """The backup servers' own process lists, every 20 ms: which systems' backup files
    a `cat` under each server's sshd is reading."""

    def __init__(self, lab: Lab) -> None:
        self.roots = {name: str(lab.fleet.root(name)) + "/" for name in SERVERS}
        self.pids = lab.sshd_pids
        self.most: dict[str, int] = defaultdict(int)
        self.readers: dict[str, int] = defaultdict(int)  # most readers of one system at once
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            parents: dict[int, int] = {}
            commands: dict[int, list[str]] = {}
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/stat", "rb") as stat:
                        fields = stat.read().rsplit(b")", 1)[1].split()
                    with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                        raw = cmd.read().split(b"\0")
                except OSError:
                    continue
                parents[int(entry)] = int(fields[1])
                commands[int(entry)] = [a.decode(errors="replace") for a in raw if a]
            self.samples += 1
            for name, sshd in self.pids.items():
                reading: dict[str, int] = defaultdict(int)
                for pid, argv in commands.items():
                    if not argv or not argv[0].endswith("cat") or not _under(pid, sshd, parents):
                        continue
                    for arg in argv[1:]:
                        if arg.startswith(self.roots[name]):
                            reading[arg[len(self.roots[name]):].split("/", 1)[0]] += 1
                self.most[name] = max(self.most[name], len(reading))
                for system, count in reading.items():
                    self.readers[system] = max(self.readers[system], count)


def _under(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    for _ in range(64):
        pid = parents.get(pid, 0)
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


def start_worker(lab: Lab, name: str) -> subprocess.Popen[bytes]:
    log = (lab.folder / f"worker-{name}.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "--env-file",
                                str(lab.env_file), "worker", "--name", name, "--grace", "5"],
                               stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 60
    while True:
        with lab.container.sessions() as session:
            row = session.get(RestoreWorker, name)
            if row is not None and row.pid == process.pid:
                return process
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker {name} tidak mulai:\n"
                             + (lab.folder / f"worker-{name}.log").read_text()[-3000:])
        time.sleep(0.1)


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Round:
    name: str
    makespan: float
    ideal: float
    per_restore: list[float]
    handover: list[float]
    bookkeeping: list[float]
    most: dict[str, int]
    readers: int
    not_whole: list[str]
    statuses: dict[str, int]
    again: int
    runs_per_system: int


def run_round(lab: Lab, queue: DurableQueue, name: str, workers: int, kill: bool) -> Round:
    c = lab.container
    zone = c.settings.timezone
    lab.fleet.damage()
    with c.sessions() as session:
        person = session.execute(select(Person).where(Person.nip == MEMBER)).scalar_one()
        actor = actor_for_person(session, person)
        first_run = (session.execute(select(RestoreRun.id).order_by(RestoreRun.id.desc())
                                     ).scalars().first() or 0) + 1
    processes = [start_worker(lab, f"w{n + 1}") for n in range(workers)]
    killed = False
    try:
        with Sampler(lab) as sampler:
            began = time.monotonic()
            # Recipes and servers in turn: each slot gets a like mix of work.
            for system in lab.fleet.systems:
                with c.unit_of_work() as session:
                    access = system_access(session, system.code, zone)
                    check = session.get(BackupCheck, lab.check_ids[system.code])
                    assert check is not None
                    ticket = start_run(session, access, check, actor, c.clock(), zone,
                                       queued=True)
                    place = queue_place(session, ticket.run_id)
                queue.enqueue(ticket.run_id, ticket.uid, place.slot, place.priority,
                              place.zone)
            deadline = time.monotonic() + WAIT
            while True:
                with c.sessions() as session:
                    runs = session.execute(select(RestoreRun).where(
                        RestoreRun.id >= first_run)).scalars().all()
                    ended = [r for r in runs if r.lock_key is None]
                    done = [r for r in runs if r.status == "succeeded"]
                if kill and not killed and len(done) >= len(lab.fleet.systems) // 3:
                    processes[0].send_signal(signal.SIGKILL)
                    processes[0].wait()
                    killed = True
                    print(f"  worker w1 dimatikan (SIGKILL) setelah {len(done)} restore "
                          "selesai", flush=True)
                if len(ended) == len(runs) == len(lab.fleet.systems):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("restore tidak selesai dalam batas waktu")
                time.sleep(0.2)
            makespan = time.monotonic() - began
    finally:
        for process in processes:
            stop_worker(process)
    return measure(lab, name, first_run, makespan, sampler)


def measure(lab: Lab, name: str, first_run: int, makespan: float, sampler: Sampler) -> Round:
    c = lab.container
    with c.sessions() as session:
        runs = session.execute(select(RestoreRun).where(RestoreRun.id >= first_run)
                               ).scalars().all()
        sealed = {json.loads(e.data)["run_id"]: e.occurred_at for e in session.execute(
            select(AuditEvent).where(AuditEvent.action == "rollback_copy_sealed")).scalars()}
        per_restore, bookkeeping = [], []
        spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        again = 0
        for run in runs:
            end = sealed.get(run.id) or run.finished_at
            assert end is not None
            per_restore.append((end - run.started_at).total_seconds())
            phases = json.loads(run.phases)
            again += sum(1 for p in phases if p["status"] == AGAIN)
            last = [p for p in phases if p["status"] != AGAIN]
            if last:
                own = (datetime.fromisoformat(last[-1]["at"]) -
                       datetime.fromisoformat(last[0]["at"])).total_seconds()
                bookkeeping.append(max(0.0, per_restore[-1] - own))
            spans[run.queue_slot or ""].append((run.started_at, end))
        statuses: dict[str, int] = defaultdict(int)
        for run in runs:
            statuses[run.status] += 1
        systems: dict[int, int] = defaultdict(int)
        for run in runs:
            systems[run.system_id] += 1
    handover = []
    for slot_spans in spans.values():
        slot_spans.sort()
        for (_, end), (start, _) in itertools.pairwise(slot_spans):
            handover.append(max(0.0, (start - end).total_seconds()))
    capacity = min(N, K * len(SERVERS))
    return Round(name, makespan, sum(per_restore) / capacity, per_restore, handover,
                 bookkeeping, dict(sampler.most), max(sampler.readers.values(), default=0),
                 lab.fleet.not_whole(), dict(statuses), again, max(systems.values()))


def report(r: Round) -> None:
    print(f"\n{r.name}")
    print(f"  makespan {r.makespan:6.1f} s; ideal {r.ideal:6.1f} s "
          f"(jumlah waktu restore / kapasitas {min(N, K * len(SERVERS))}): "
          f"rasio {r.makespan / r.ideal:.2f}x (sasaran <= 1.25x)")
    print(f"  waktu per restore: median {statistics.median(r.per_restore):.2f} s, "
          f"terlama {max(r.per_restore):.2f} s")
    if r.handover:
        print(f"  biaya mesin antrean per restore (tanpa waktu tunggu): serah-terima slot "
              f"median {statistics.median(r.handover):.3f} s, terlama "
              f"{max(r.handover):.3f} s; pencatatan "
              f"median {statistics.median(r.bookkeeping):.3f} s")
    print("  paling banyak sekaligus per server backup (dari daftar proses server): "
          + ", ".join(f"{name} {r.most.get(name, 0)} (K={K})" for name in SERVERS)
          + f"; pembaca satu sistem sekaligus paling banyak {r.readers}")
    print(f"  hasil: {dict(r.statuses)}; diulang setelah worker mati: {r.again}; "
          f"run per sistem paling banyak {r.runs_per_system}; "
          f"sistem tidak utuh: {r.not_whole or 'tidak ada'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=40)
    parser.add_argument("--rate", default="512 KB/s", help="batas kecepatan per restore")
    parser.add_argument("--rows", type=int, default=200000,
                        help="baris (atau baris berkas) tiap sistem: sekitar 5 MB gzip")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory(prefix="pulih-mass-") as tmp, \
            lab(Path(tmp), args.systems, args.rate, args.rows) as the_lab:
        check_all(the_lab)
        settings = the_lab.container.settings
        queue = DurableQueue(system_database_url(settings.database_url, settings.data_dir),
                             limit=N, executor="benchmark", carries=False)
        queue.start()
        rounds = []
        try:
            for name, workers, kill in (("1 worker", 1, False), ("2 worker", 2, False),
                                        ("2 worker, satu dimatikan (SIGKILL)", 2, True)):
                print(f"Putaran: {name}...", flush=True)
                rounds.append(run_round(the_lab, queue, name, workers, kill))
                report(rounds[-1])
        finally:
            queue.stop()
        bad = [r for r in rounds if r.not_whole or max(r.most.values(), default=0) > K
               or r.readers > 1 or r.statuses.get("succeeded", 0) != args.systems]
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
