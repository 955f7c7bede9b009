"""The morning backup watch at office scale (issue 20): 100 systems on 2 backup servers,
cheap mode, as `pulih backups watch --ringan` runs it.

    python3 benchmarks/backup_watch.py [--systems 100] [--points 7] [--rounds 3]

On this machine: two backup servers as two sshd on 127.0.0.1, each system's folder
holding `--points` nightly restore points (a gzip dump, SHA256SUMS, manifest.json), half
the systems on each server; Pulih's records in SQLite (the embedded default). Each round
runs the whole watch; the last round's figures are printed per system (time and SSH
round trips: commands started on the server), then the totals of every round.

The baseline, measured in the same run: the same listing done by hand with OpenSSH, one
`ssh backup find <folder> ...` per system as a shell loop would (a new login each time,
one command). The ratio is Pulih's time per system over that; Pulih reads two sidecars
more per system (SHA256SUMS and manifest.json) over one login per server. The target
the issue sets is under 1 s per system on loopback. Needs openssh-server.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import Container, bootstrap  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.demo.lab.backup_point import gz, write_point  # noqa: E402
from bot.demo.lab.loopback import without_office_env  # noqa: E402
from bot.demo.lab.sshd import SshServer, ssh_server  # noqa: E402
from bot.inventory.loader import load_inventory  # noqa: E402
from bot.services.office.inventory_sync import sync_inventory  # noqa: E402
from bot.services.watch.run import Outcome, watch_backups  # noqa: E402
from bot.settings import load_settings  # noqa: E402

WITA = ZoneInfo("Asia/Makassar")
SERVERS = ("backup-a", "backup-b")
DUMP = ("-- MariaDB dump 10.19\nCREATE TABLE `data` (`id` int, `isi` text);\n"
        "INSERT INTO `data` VALUES " + ",".join(f"({n},'baris {n}')" for n in range(200))
        + ";\n-- Dump completed on 2026-01-01  2:00:01\n").encode()


def inventory(servers: dict[str, SshServer], roots: dict[str, Path], systems: int) -> str:
    parts = ['[office]\ncode = "DISKOMINFO"\nname = "Dinas Komunikasi dan Informatika"\n'
             'address = ["Tenggarong"]\n\n[team]\ngroup_chat_id = -1001000000001\n\n'
             '[[agencies]]\ncode = "BKAD"\nname = "Badan Keuangan dan Aset Daerah"\n']
    for name, server in servers.items():
        parts.append(f'[[backup_servers]]\nname = "{name}"\nhost = "127.0.0.1"\n'
                     f'port = {server.port}\nuser = "{server.endpoint().user}"\n'
                     f'key = "{server.user_key}"\nknown_hosts = "{server.known_hosts}"\n'
                     f'root = "{roots[name]}"\n')
    any_server = next(iter(servers.values()))
    for n in range(systems):
        parts.append(f'[[systems]]\ncode = "sistem-{n:03d}"\nname = "Sistem {n}"\n'
                     f'agency = "BKAD"\nrecipe = "mariadb"\ndatabase = "s{n:03d}"\n'
                     f'host = "127.0.0.1"\nuser = "pulih"\nkey = "{any_server.user_key}"\n'
                     f'known_hosts = "{any_server.known_hosts}"\n'
                     f'backup_server = "{SERVERS[n % len(SERVERS)]}"\n')
    return "\n".join(parts)


@contextmanager
def lab(folder: Path, systems: int, points: int) -> Iterator[tuple[Container, dict[str, SshServer],
                                                                   dict[str, Path]]]:
    with ExitStack() as stack:
        stack.enter_context(without_office_env())
        servers = {name: stack.enter_context(ssh_server(folder / f"sshd-{name}", name))
                   for name in SERVERS}
        roots = {name: folder / f"srv-{name}" for name in SERVERS}
        now = datetime.now(UTC)
        data = gz(DUMP)
        for n in range(systems):
            system = roots[SERVERS[n % len(SERVERS)]] / f"sistem-{n:03d}"
            for back in range(points):
                taken = (now - timedelta(days=back, hours=4)).astimezone(WITA)
                write_point(system, taken.strftime("%Y%m%d-%H%M"), {"data.sql.gz": data},
                            manifest={"data": 200})
        path = folder / "inventory.toml"
        path.write_text(inventory(servers, roots, systems))
        settings = load_settings(environ={
            "PULIH_DATABASE_URL": f"sqlite:///{folder / 'pulih.sqlite3'}",
            "PULIH_DATA_DIR": str(folder / "data"), "PULIH_INVENTORY": str(path),
            "PULIH_LOG_LEVEL": "WARNING"}, env_file=folder / "absent.env")
        container = bootstrap(settings)
        stack.callback(container.close)
        upgrade(container.engine)
        with container.unit_of_work() as session:
            sync_inventory(session, load_inventory(path), now)
        yield container, servers, roots


def by_hand(servers: dict[str, SshServer], roots: dict[str, Path], systems: int) -> float:
    """One OpenSSH login and listing per system, as a shell loop would; seconds in all."""
    began = time.monotonic()
    for n in range(systems):
        name = SERVERS[n % len(SERVERS)]
        folder = roots[name] / f"sistem-{n:03d}"
        command = shlex.join(["find", str(folder), "-mindepth", "1", "-maxdepth", "2",
                              "-type", "f", "-printf", r"%P %s %T@\n"])
        subprocess.run([*servers[name].ssh_command(), command], check=True,
                       capture_output=True)
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=100)
    parser.add_argument("--points", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pulih-watch-") as tmp, \
            lab(Path(tmp), args.systems, args.points) as (container, servers, roots):
        rounds: list[tuple[Outcome, float]] = []
        for _ in range(args.rounds):
            outcome = watch_backups(container, trigger="cli", cheap_only=True)
            assert outcome is not None
            hand = by_hand(servers, roots, args.systems)
            rounds.append((outcome, hand))
        last = rounds[-1][0]
        print(f"Pantauan ringan {args.systems} sistem di {len(SERVERS)} server backup, "
              f"{args.points} titik per sistem (putaran terakhir):")
        print(f"{'sistem':<12} {'detik':>7} {'perintah SSH':>13}  temuan")
        for r in last.results:
            found = ", ".join(f.kind for f in r.findings) or "-"
            print(f"{r.code:<12} {r.seconds:7.3f} {r.look.round_trips:13d}  {found}")
        print()
        print(f"{'putaran':<8} {'total s':>8} {'s/sistem':>9} {'median s':>9} {'maks s':>7} "
              f"{'perintah/sistem':>16} {'OpenSSH s/sistem':>17} {'rasio':>6}")
        for number, (outcome, hand) in enumerate(rounds, start=1):
            each = [r.seconds for r in outcome.results]
            trips = statistics.mean(r.look.round_trips for r in outcome.results)
            per = outcome.seconds / len(outcome.results)
            hand_per = hand / args.systems
            print(f"{number:<8} {outcome.seconds:8.2f} {per:9.3f} {statistics.median(each):9.3f} "
                  f"{max(each):7.3f} {trips:16.1f} {hand_per:17.3f} {per / hand_per:6.2f}x")
        problems = sum(1 for r in last.results if r.findings)
        print(f"\nSistem dengan temuan: {problems} (seharusnya 0: semua backup di lab baik).")
        worst = max(o.seconds / len(o.results) for o, _ in rounds)
        print(f"Target < 1 s per sistem: {'TERCAPAI' if worst < 1 else 'TIDAK'} "
              f"(terburuk {worst:.3f} s per sistem, dua server dibaca bersamaan).")


if __name__ == "__main__":
    main()
