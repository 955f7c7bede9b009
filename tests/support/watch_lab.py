"""Six systems' backups on a real sshd backup server, for the backup watch (issue 20):
one fresh, one stale, one missing, one shrunk, one with a corrupt byte and one without
SHA256SUMS; and an inventory that names them."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.demo.lab.sshd import SshServer
from tests.support.backups import MARIADB_DUMP, gz, write_point
from tests.support.clock import NOW, WITA

# The offices' clock in these tests: 07.00 WITA on the tests' day, past the watch time.
MORNING = NOW.astimezone(WITA).replace(hour=7, minute=0, second=0, microsecond=0)

TEAM = -1001000000077
SYSTEMS = {  # code: (what is wrong, hours between backups)
    "arsip": ("fresh", 168),
    "bapenda": ("stale", 24),
    "dukcapil": ("missing", 24),
    "ekinerja": ("shrunk", 168),
    "simpeg": ("no sums", 168),
    "sipd": ("corrupt", 168),
}


def stamp(moment: datetime) -> str:
    return moment.astimezone(WITA).strftime("%Y%m%d-%H%M")


def dump(rows: int) -> bytes:
    values = ",".join(f"({n},'Pegawai nomor {n} dengan nama yang cukup panjang')"
                      for n in range(1, rows + 1))
    return gz(MARIADB_DUMP.replace("(1,'Andi'),(2,'Budi')", values).encode())


def make_backups(root: Path) -> None:
    """Each system's folder as its backup job left it (points named in office time)."""
    day = timedelta(days=1)
    for code in SYSTEMS:
        (root / code).mkdir(parents=True)
    for back in (1, 8, 15):
        write_point(root / "arsip", stamp(MORNING - back * day), {"arsip.sql.gz": dump(50)},
                    manifest={"pegawai": 50})
    write_point(root / "bapenda", stamp(MORNING - 3 * day), {"bapenda.sql.gz": dump(50)})
    for back, rows in ((1, 3), (8, 4000), (15, 4000), (22, 3900)):
        write_point(root / "ekinerja", stamp(MORNING - back * day), {"ekinerja.sql.gz": dump(rows)})
    write_point(root / "simpeg", stamp(MORNING - day), {"simpeg.sql.gz": dump(50)}, sums=False)
    point = write_point(root / "sipd", stamp(MORNING - day), {"sipd.sql.gz": dump(50)})
    data = bytearray((point / "sipd.sql.gz").read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, after SHA256SUMS was written
    (point / "sipd.sql.gz").write_bytes(bytes(data))


def inventory(server: SshServer, root: Path, key: Path, known: Path) -> str:
    systems = "\n".join(
        f'[[systems]]\ncode = "{code}"\nname = "Sistem {code.upper()}"\nagency = "BKAD"\n'
        f'recipe = "mariadb"\ndatabase = "{code}"\nhost = "127.0.0.1"\nuser = "pulih"\n'
        f'key = "{key}"\nknown_hosts = "{known}"\nbackup_server = "backup-dc"\n'
        f"backup_every_hours = {every}\n"
        for code, (_, every) in SYSTEMS.items())
    return f'''[office]
code = "DISKOMINFO"
name = "Dinas Komunikasi dan Informatika"
address = ["Tenggarong"]

[team]
group_chat_id = {TEAM}

[watch]
at = "06.30"
shrink = 0.5
full_cycle_days = 3

[[agencies]]
code = "BKAD"
name = "Badan Keuangan dan Aset Daerah"

[[backup_servers]]
name = "backup-dc"
host = "127.0.0.1"
port = {server.port}
user = "{server.endpoint().user}"
key = "{server.user_key}"
known_hosts = "{server.known_hosts}"
root = "{root}"

{systems}'''


def write_lab(folder: Path, server: SshServer) -> tuple[Path, Path]:
    """The six systems' backups and the inventory naming them: (backup root, inventory)."""
    root = folder / "srv-backup"
    make_backups(root)
    keys = folder / "keys"
    keys.mkdir()
    (keys / "id").write_text("stand-in\n")
    (keys / "known").write_text("")
    path = folder / "inventory.toml"
    path.write_text(inventory(server, root, keys / "id", keys / "known"))
    return root, path
