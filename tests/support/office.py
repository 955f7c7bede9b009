"""A small office for tests: an inventory file with every kind of actor, and its key files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.support.clock import NOW, office_day

__all__ = ["NIPS", "NOW", "PLH_WINDOW", "inventory_text", "write_inventory", "write_keys"]

# The Plh. of the Kepala Dinas acts from three days before the tests' day to four after;
# another Plh.'s appointment ended the day before; a Plt. Kepala Bidang starts that day.
PLH_WINDOW = (office_day(-3), office_day(4))

NIPS = {
    "requester": "198707192011011006",
    "opd_colleague": "198707192011011007",
    "opd_other": "199112052017082001",
    "kadis": "197204151998031007",
    "kabid_a": "197809232005011004",
    "kabid_b": "198102142006042011",
    "plh_kadis": "198001012005011001",
    "plh_expired": "198001012005011002",
    "tim_exec": "199003172015031002",
    "tim_other": "199308262019022003",
    "plt_kabid": "199308262019022004",
    "admin": "199001012019021001",
    "auditor": "198511022010011015",
    "kabid_tim": "198206062008011009",
    "kadis_opd": "197001011995031001",
}

_PEOPLE = [
    ("requester", "Andi Saputra", ["opd"], "DISDIKBUD"),
    ("opd_colleague", "Rahmawati", ["opd"], "DISDIKBUD"),
    ("opd_other", "Nur Aisyah", ["opd"], "BKPSDM"),
    ("kadis", "Ahmad Rizali", ["kadis"], "DISKOMINFO"),
    ("kabid_a", "Fajar Setiawan", ["kabid"], "DISKOMINFO"),
    ("kabid_b", "Rina Maharani", ["kabid"], "DISKOMINFO"),
    ("plh_kadis", "Hendra Gunawan", ["kabid"], "DISKOMINFO"),
    ("plh_expired", "Lukas Tandi", ["kabid"], "DISKOMINFO"),
    ("tim_exec", "Dimas Pratama", ["tim"], "DISKOMINFO"),
    ("tim_other", "Siti Nurhaliza", ["tim"], "DISKOMINFO"),
    ("plt_kabid", "Yusuf Ramadhan", ["tim"], "DISKOMINFO"),
    ("admin", "Admin Pulih", ["admin"], "DISKOMINFO"),
    ("auditor", "Yohanes Lembang", ["auditor"], "DISKOMINFO"),
    ("kabid_tim", "Agus Salim", ["kabid", "tim"], "DISKOMINFO"),
    ("kadis_opd", "Budi Hartono", ["kadis", "opd"], "DISKOMINFO"),
]


def write_keys(folder: Path) -> tuple[Path, Path]:
    """Stand-in key and known_hosts files (the inventory only needs them readable)."""
    folder.mkdir(parents=True, exist_ok=True)
    key, known = folder / "id_ed25519", folder / "known_hosts"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----\n")
    key.chmod(0o600)
    known.write_text("")
    return key, known


def inventory_text(key: Path, known: Path, *, backup_port: int = 22,
                   backup_root: str = "/srv/backup", target_port: int = 22,
                   target_key: Path | None = None, target_known: Path | None = None,
                   system_extra: str = "", web_app_dir: str | None = None,
                   portal_extra: str | None = None, emails: dict[str, str] | None = None
                   ) -> str:
    """An inventory with every actor kind the workflow tests need; with `web_app_dir`, the
    files system lives there on the target (the SIMPEG server); with `portal_extra` (its
    database settings), the PostgreSQL system is reached through the target too; `emails`
    gives people (keys of NIPS) an e-mail address."""
    target_key = target_key or key
    target_known = target_known or known
    on_target = (f'port = {target_port}\nuser = "{_user()}"\nkey = "{target_key}"\n'
                 f'known_hosts = "{target_known}"')
    elsewhere = f'user = "pulih"\nkey = "{key}"\nknown_hosts = "{known}"'
    web_at = (f'{on_target}\napp_dir = "{web_app_dir}"' if web_app_dir else
              f'{elsewhere}\napp_dir = "/var/www/kominfo"')
    portal_at = f"{on_target}\n{portal_extra}" if portal_extra else elsewhere
    emails = emails or {}
    people = "\n".join(
        f'[[people]]\nnip = "{NIPS[k]}"\nname = "{name}"\nroles = {roles!r}\n'
        f'agency = "{agency}"\n'.replace("'", '"')
        + (f'email = "{emails[k]}"\n' if k in emails else "")
        for k, name, roles, agency in _PEOPLE
    )
    return f'''
[office]
code = "DISKOMINFO"
name = "Dinas Komunikasi dan Informatika"
address = ["Jalan Wolter Monginsidi No. 1", "Tenggarong"]

[team]
group_chat_id = -1001000000001

[[agencies]]
code = "DISDIKBUD"
name = "Dinas Pendidikan dan Kebudayaan"

[[agencies]]
code = "BKPSDM"
name = "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia"

{people}

[[acting]]
nip = "{NIPS['plh_kadis']}"
for_nip = "{NIPS['kadis']}"
kind = "Plh."
from = {PLH_WINDOW[0]}
until = {PLH_WINDOW[1]}

[[acting]]
nip = "{NIPS['plh_expired']}"
for_nip = "{NIPS['kadis']}"
kind = "Plh."
from = {office_day(-22)}
until = {office_day(-1)}

[[acting]]
nip = "{NIPS['plt_kabid']}"
for_nip = "{NIPS['kabid_a']}"
kind = "Plt."
from = {office_day(0)}
until = {office_day(38)}

[[backup_servers]]
name = "backup-dc"
host = "127.0.0.1"
port = {backup_port}
user = "{_user()}"
key = "{key}"
known_hosts = "{known}"
root = "{backup_root}"

[[systems]]
code = "portal-pendidikan"
name = "Portal Data Pendidikan"
agency = "DISDIKBUD"
recipe = "postgresql"
host = "127.0.0.1"
{portal_at}
database = "portal_pendidikan"
backup_server = "backup-dc"

[[systems]]
code = "simpeg"
name = "SIMPEG"
agency = "BKPSDM"
recipe = "mariadb"
host = "127.0.0.1"
port = {target_port}
user = "{_user()}"
key = "{target_key}"
known_hosts = "{target_known}"
database = "simpeg"
backup_server = "backup-dc"
{system_extra}

[[systems]]
code = "web-kominfo"
name = "Situs Web Diskominfo"
agency = "DISKOMINFO"
recipe = "files"
host = "127.0.0.1"
{web_at}
backup_server = "backup-dc"
'''


def _user() -> str:
    return "root" if os.geteuid() == 0 else (os.environ.get("USER") or "pulih")


def write_inventory(folder: Path, **kw: Any) -> Path:
    """The test office's inventory; keyword arguments as for `inventory_text`."""
    if "key" in kw:
        key, known = kw.pop("key"), kw.pop("known")
    else:
        key, known = write_keys(folder / "ssh")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "inventory.toml"
    path.write_text(inventory_text(key, known, **kw), encoding="utf-8")
    return path
