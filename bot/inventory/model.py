"""What an inventory holds, once read and checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from bot.workflow.sop import Role
from bot.workflow.worktime import DEFAULT_HOURS, Hours

RECIPES = ("mariadb", "postgresql", "files")
BACKUP_LAYOUTS = ("points", "flat")


@dataclass(frozen=True)
class Signatory:
    """Who signs an agency's request letter: its head, or an official it names."""

    name: str
    jabatan: str
    pangkat: str = ""
    nip: str = ""


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    address: tuple[str, ...] = ()
    is_office: bool = False
    # The request letter Pulih writes for this agency: who signs it (None: a signature
    # block for its head, name left to write by hand) and the agency's own numbering
    # pattern (None: the number is left blank for the agency's register).
    letter_signer: Signatory | None = None
    letter_pattern: str | None = None


@dataclass(frozen=True)
class Office(Agency):
    government: str = "Pemerintah Kabupaten Kutai Kartanegara"
    city: str = "Tenggarong"
    phone: str = ""
    website: str = ""
    email: str = ""
    logo: Path | None = None


@dataclass(frozen=True)
class PersonEntry:
    nip: str
    name: str
    roles: tuple[Role, ...]
    jabatan: str = ""
    pangkat: str = ""
    agency: str | None = None
    telegram_id: int | None = None
    email: str | None = None  # the second channel (issue 21)


@dataclass(frozen=True)
class ActingEntry:
    nip: str
    for_nip: str
    role: Role
    kind: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class SshTarget:
    host: str
    port: int
    user: str
    key: Path
    known_hosts: Path
    sudo: bool = False


@dataclass(frozen=True)
class BackupServerEntry:
    name: str
    ssh: SshTarget
    root: str
    layout: str = "points"
    pattern: str = ""
    max_rate: int | None = None  # bytes per second a backup file may leave it at
    max_restores: int = 2  # restores reading from it at once (issue 19's queue partition)
    zone: str | None = None  # the data centre it stands in


@dataclass(frozen=True)
class PullEntry:
    """A target that fetches its backups itself: its key and known_hosts (paths on the
    target), and the backup server as it reaches it (None: the server's own host, user)."""

    key: str
    known_hosts: str
    host: str | None = None
    user: str | None = None


@dataclass(frozen=True)
class SystemEntry:
    code: str
    name: str
    agency: str
    recipe: str
    ssh: SshTarget
    backup_server: str
    backup_path: str
    database: str | None = None
    app_dir: str | None = None
    health_url: str | None = None
    db_host: str | None = None
    db_port: int | None = None
    db_user: str | None = None
    db_defaults_file: str | None = None
    db_import_user: str | None = None
    run_as: str | None = None
    # Where a restore stages the backup on the target (a folder per run inside it);
    # None: /var/lib/pulih-staging.
    staging_dir: str | None = None
    max_rate: int | None = None  # bytes per second a backup file may reach it at
    pull: PullEntry | None = None  # the target fetches its backups itself
    priority: int = 5  # 1 first (public services) .. 9 last, when restores must wait
    zone: str | None = None  # the data centre it stands in
    backup_every_hours: int = 24  # a new restore point is expected this often
    drill_every_days: int | None = None  # restored as a drill this often (None: on demand)
    restore_24_7: bool = False  # critical: its restore steps stay on clock time


@dataclass(frozen=True)
class LetterSettings:
    unit_code: str = "Diskominfo"
    classification: str = "000.6"
    security_code: str = "B"
    paper: str = "F4"
    numbering: dict[str, str] = field(default_factory=dict)
    notification_signer: Role = Role.KADIS
    margins: tuple[float, float, float, float] = (20.0, 20.0, 25.0, 30.0)  # top right bottom left
    font_size: float = 12.0
    fonts: tuple[Path, Path, Path] | None = None  # regular, bold, italic TTF
    templates: Path | None = None
    tembusan: tuple[str, ...] = ("Bupati Kutai Kartanegara (sebagai laporan)", "Arsip")
    month_style: str = "angka"  # or "romawi": how every number's month is written


@dataclass(frozen=True)
class WatchSettings:
    """The morning backup watch: when it runs (the office's local time), how much smaller
    than usual a new point may be, how many days a full check of every system may take, and
    how late a point may be before it is stale."""

    at: time = time(6, 0)
    shrink: float = 0.3
    full_cycle_days: int = 7
    grace_hours: int = 2
    drill_at: time = time(20, 0)  # scheduled restore drills start from this hour


@dataclass(frozen=True)
class OfficeHours:
    """[office_hours]: when the office works, and which steps' Mutu Baku count in working
    time (none by default: every clock runs 24/7 until the office says otherwise)."""

    hours: Hours = DEFAULT_HOURS
    working_steps: frozenset[int] = frozenset()
    national: bool = True  # Indonesia's public holidays
    joint_leave: bool = True  # the government's cuti bersama, where the package knows them
    days_off: tuple[tuple[date, str], ...] = ()  # the office's own list


@dataclass(frozen=True)
class Inventory:
    path: Path
    office: Office
    agencies: tuple[Agency, ...]
    people: tuple[PersonEntry, ...]
    acting: tuple[ActingEntry, ...]
    backup_servers: tuple[BackupServerEntry, ...]
    systems: tuple[SystemEntry, ...]
    team_chat_id: int
    letters: LetterSettings
    watch: WatchSettings = field(default_factory=WatchSettings)
    office_hours: OfficeHours = field(default_factory=OfficeHours)

    def all_agencies(self) -> tuple[Agency, ...]:
        """The office first, then the OPDs."""
        return (self.office, *self.agencies)
