"""The demo's lab for steps 4-7: the backup server and SIMPEG's VPS as two OpenSSH servers
on 127.0.0.1 that let in the bot's own key, SIMPEG's database in a MariaDB of its own
(backed up, then damaged), and the inventory that points Pulih at them."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.demo.lab import mariadb, sshd
from bot.demo.lab.loopback import missing
from bot.demo.lab.mariadb import MariaDB, mariadb_server
from bot.demo.lab.simpeg import States, damaged_simpeg
from bot.demo.lab.sshd import ssh_server
from bot.render import render_text

PACKAGES = "openssh-server openssh-client mariadb-server mariadb-client"
ROWS = 40  # SIMPEG's employees in the backup


def unavailable() -> str | None:
    """Why the lab cannot run here, in Indonesian, or None."""
    reasons = []
    absent = missing((*sshd.TOOLS, *mariadb.TOOLS))
    if absent:
        reasons.append(f"program {', '.join(absent)} tidak ditemukan (Debian: apt-get install "
                       f"{PACKAGES})")
    return "; ".join(reasons) or None


@dataclass(frozen=True)
class Lab:
    database: MariaDB
    states: States
    point: str


def latest_point(now: datetime, zone: ZoneInfo) -> str:
    """The last 02.00 office time at or before `now`, as a point name."""
    local = now.astimezone(zone)
    point = local.replace(hour=2, minute=0, second=0, microsecond=0)
    if point > local:
        point -= timedelta(days=1)
    return point.strftime("%Y%m%d-%H%M")


@contextmanager
def lab(inventory: Path, key: Path, known_hosts: Path, now: datetime,
        zone: ZoneInfo) -> Iterator[Lab]:
    """Start the servers, back up and damage SIMPEG, append the hosts' keys to
    `known_hosts`, and rewrite `inventory` (an example inventory: its office, people
    and letters stay; its backup servers and systems become the lab's); stop and remove
    it all afterwards."""
    work = Path(tempfile.mkdtemp(prefix="pulih-demo-lab-"))
    try:
        with ExitStack() as stack:
            backup = stack.enter_context(ssh_server(work / "backup", "backup-lab", key))
            target = stack.enter_context(ssh_server(work / "vps", "simpeg-vps", key))
            database = stack.enter_context(mariadb_server(work / "mariadb"))
            point = latest_point(now, zone)
            backup_root = work / "srv-backup"
            states = damaged_simpeg(database, backup_root, rows=ROWS, point=point)
            with known_hosts.open("a", encoding="utf-8") as hosts:
                for server in (backup, target):
                    hosts.write(server.known_hosts.read_text(encoding="utf-8"))
            office = inventory.read_text(encoding="utf-8").split("\n[[backup_servers]]", 1)[0]
            office = "\n".join(line for line in office.rstrip("\n").splitlines()
                               if not line.startswith("# --- Server backup"))
            inventory.write_text(office.rstrip("\n") + "\n\n" + render_text(
                "cli/demo_lab.toml.j2", zone, backup_port=backup.port,
                target_port=target.port, user=backup.endpoint().user,
                backup_root=backup_root, db_socket=database.socket, db_user=database.user,
                staging_dir=work / "staging"), encoding="utf-8")
            yield Lab(database, states, point)
    finally:
        shutil.rmtree(work, ignore_errors=True)
