"""The office the step 4-7 benchmarks run: what the end-to-end tests run against (the
backup server and SIMPEG's VPS as two sshd on 127.0.0.1, SIMPEG's damaged database in a
MariaDB, the bot's records in SQLite, the local Bot API stand-in), with last night's
SIMPEG backup of the size asked for on the backup server."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.simpeg_dump import damaged_live, write_simpeg_backup
from bot.demo.lab.loopback import without_office_env
from bot.demo.lab.mariadb import MariaDB, mariadb_server
from bot.demo.lab.sshd import SshServer, ssh_server
from bot.demo.office_lab import latest_point
from bot.demo.standin import fake_telegram
from tests.support.sop_flow import Office, open_office

WITA = ZoneInfo("Asia/Makassar")


@dataclass(frozen=True)
class LabOffice:
    office: Office
    backup: SshServer
    target: SshServer
    database: MariaDB
    point: Path  # the backup point's folder on the backup server
    counts: dict[str, int]  # rows per table in the backup


@contextmanager
def lab_office(size_mb: int, scans_mib: int = 0, nice: int = 0) -> Iterator[LabOffice]:
    """Start it all, write the backup (see `write_simpeg_backup`), damage the live
    database; `nice` lowers the servers' priority. Stop and remove it all afterwards."""
    with tempfile.TemporaryDirectory(prefix="pulih-bench-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        backup = stack.enter_context(ssh_server(folder / "sshd-backup", "backup", nice=nice))
        target = stack.enter_context(ssh_server(folder / "sshd-vps", "vps", nice=nice))
        database = stack.enter_context(mariadb_server(folder / "mariadb", nice=nice))
        fake = stack.enter_context(fake_telegram())
        stack.enter_context(without_office_env())
        root = folder / "srv-backup"
        point = root / "simpeg" / latest_point(datetime.now(UTC), WITA)
        counts = write_simpeg_backup(point, size_mb, scans_mib=scans_mib)
        damaged_live(database)
        office = open_office(folder / "office", backup, target, database, fake, root, {})
        stack.callback(office.container.close)
        yield LabOffice(office, backup, target, database, point, counts)
