"""Read an inventory file and report every problem with its place in the file."""

from __future__ import annotations

import ipaddress
import os
import re
import string
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import ConfigError
from bot.inventory.locate import Locator
from bot.inventory.model import (
    BACKUP_LAYOUTS,
    RECIPES,
    ActingEntry,
    Agency,
    BackupServerEntry,
    Inventory,
    LetterSettings,
    Office,
    OfficeHours,
    PersonEntry,
    PullEntry,
    Signatory,
    SshTarget,
    SystemEntry,
    WatchSettings,
)
from bot.workflow.sop import ACTING_ROLES, Role
from restore.errors import UnsafeValue
from restore.safety import relative_path, url

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
NIP_DIGITS = 18  # ASN and PPPK alike
NIP_RE = re.compile(rf"^\d{{{NIP_DIGITS}}}$")
# One address, nothing a mail header could be made to carry besides it (no spaces, no line
# breaks, no commas or angle brackets), within the 254 characters SMTP allows.
EMAIL_RE = re.compile(r"^(?=.{3,254}\Z)[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z")
USER_RE = re.compile(r"^[a-z_][a-z0-9_.\-]{0,31}$")
SYSTEM_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
DB_USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,31}$")
DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$")
SAFE_PATH_RE = re.compile(r"^/(?:[A-Za-z0-9_.\-]+/?)*$")
NUMBER_FIELDS = {"security", "seq", "unit", "classification", "month", "month_roman", "year"}
DOCUMENT_KINDS = ("surat_permohonan", "disposisi", "laporan", "surat_pemberitahuan")
DEFAULT_NUMBERING = {
    "surat_pemberitahuan": "{security}-{seq}/{unit}/{classification}/{month:02d}/{year}",
    "laporan": "{seq}/{unit}/{classification}/{month:02d}/{year}",
    "disposisi": "{seq}/{unit}/{classification}/{month:02d}/{year}",
    "surat_permohonan": "{security}-{seq}/{unit}/{classification}/{month:02d}/{year}",
}

T = TypeVar("T")


@dataclass
class _Ctx:
    """Where a value sits: used to prefix problems with file:line and a readable path."""

    table: str
    index: int | None = None
    label: str = ""

    def describe(self) -> str:
        place = self.table if self.index is None else f"{self.table}[{self.index + 1}]"
        return f"{place} ({self.label})" if self.label else place


class _Reader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.locator = Locator(text)
        self.problems: list[tuple[int, str]] = []

    def problem(self, ctx: _Ctx, key: str | None, message: str) -> None:
        line = self.locator.line(ctx.table, ctx.index, key)
        where = f"{self.path}:{line}" if line else str(self.path)
        field = f".{key}" if key else ""
        self.problems.append((line or 0, f"{where}: {ctx.describe()}{field}: {message}"))

    def get(self, ctx: _Ctx, table: dict[str, Any], key: str, kind: type[T],
            *, required: bool = True, default: T | None = None) -> T | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(ctx, key, f"belum diisi; seharusnya {_kind_name(kind)}")
            return default
        if kind is int and isinstance(value, bool):
            self.problem(ctx, key, f"seharusnya {_kind_name(kind)}, tertulis {value!r}")
            return default
        if not isinstance(value, kind):
            self.problem(ctx, key, f"seharusnya {_kind_name(kind)}, tertulis {value!r}")
            return default
        return value

    def text(self, ctx: _Ctx, table: dict[str, Any], key: str, *, required: bool = True,
             pattern: re.Pattern[str] | None = None, expected: str = "") -> str | None:
        value = self.get(ctx, table, key, str, required=required)
        if value is None:
            return None
        if not value.strip():
            if required:
                self.problem(ctx, key, "kosong; seharusnya diisi")
            return None
        if pattern is not None and not pattern.match(value):
            self.problem(ctx, key, f"{value!r} tidak sah; seharusnya {expected}")
            return None
        return value

    def engine_value(self, ctx: _Ctx, table: dict[str, Any], key: str,
                     check: Callable[[str], str]) -> str | None:
        """An optional value judged by the restore engine's own rule, so that what the
        inventory accepts the engine uses, and what it would refuse is named here."""
        value = self.text(ctx, table, key, required=False)
        if value is None:
            return None
        try:
            return check(value)
        except UnsafeValue as exc:
            self.problem(ctx, key, exc.message)
            return None

    def unknown_keys(self, ctx: _Ctx, table: dict[str, Any], known: set[str]) -> None:
        for key in table:
            if key not in known:
                known_list = ", ".join(sorted(known))
                self.problem(ctx, key, f"kunci tidak dikenal; yang dikenal: {known_list}")


def _kind_name(kind: type) -> str:
    return {str: "teks", int: "bilangan bulat", bool: "true atau false", list: "daftar",
            dict: "tabel", date: "tanggal seperti 2026-11-01"}.get(kind, kind.__name__)


def load_inventory(path: Path) -> Inventory:
    """Read and check `path`; raise ConfigError listing every problem, one line each."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: inventaris tidak dapat dibaca ({exc.strerror})"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: bukan TOML yang sah: {exc}"]) from exc
    reader = _Reader(path, text)
    inventory = _parse(reader, data, path.parent)
    if reader.problems or inventory is None:
        reader.problems.sort(key=lambda p: p[0])
        raise ConfigError([message for _, message in reader.problems])
    return inventory


def _parse(r: _Reader, data: dict[str, Any], base: Path) -> Inventory | None:
    root = _Ctx("inventory")
    top = {"office", "team", "letters", "agencies", "people", "acting", "backup_servers",
           "systems", "watch", "office_hours"}
    for key in data:
        if key not in top:
            r.problems.append((0, f"{r.path}: kunci utama {key!r} tidak dikenal; yang dikenal: "
                                  f"{', '.join(sorted(top))}"))
    office = _office(r, _table(r, root, data, "office"), base)
    team = _table(r, root, data, "team")
    team_ctx = _Ctx("team")
    r.unknown_keys(team_ctx, team, {"group_chat_id"})
    chat_id = r.get(team_ctx, team, "group_chat_id", int, default=0) or 0
    letters = _letters(r, _table(r, root, data, "letters", required=False), base)
    watch = _watch(r, _table(r, root, data, "watch", required=False))
    office_hours = _office_hours(r, _table(r, root, data, "office_hours", required=False))

    agencies = _each(r, data, "agencies", lambda ctx, t: _agency(r, ctx, t))
    codes = {str(t.get("code")) for t in data.get("agencies", []) if isinstance(t, dict)}
    codes |= {office.code} if office else set()
    _duplicates(r, data, "agencies", "code")
    for index, agency in enumerate(agencies):
        if office is not None and agency.code == office.code:
            r.problem(_Ctx("agencies", index, agency.code), "code",
                      "sama dengan kode [office]; setiap kode harus unik")
    people = _each(r, data, "people", lambda ctx, t: _person(r, ctx, t, codes))
    _duplicates(r, data, "people", "nip", "NIP")
    _duplicates(r, data, "people", "telegram_id", "Telegram id")
    by_nip = {p.nip: p for p in people}
    acting = _each(r, data, "acting", lambda ctx, t: _acting(r, ctx, t, by_nip))
    servers = _each(r, data, "backup_servers", lambda ctx, t: _backup_server(r, ctx, t, base))
    _duplicates(r, data, "backup_servers", "name")
    # Names as written, so that one broken server entry does not cascade into its systems.
    server_names = {str(t.get("name")) for t in data.get("backup_servers", [])
                    if isinstance(t, dict)}
    systems = _each(r, data, "systems",
                    lambda ctx, t: _system(r, ctx, t, base, codes, server_names))
    _duplicates(r, data, "systems", "code")
    if office is None or letters is None:
        return None
    return Inventory(r.path, office, tuple(agencies), tuple(people), tuple(acting),
                     tuple(servers), tuple(systems), chat_id, letters, watch,
                     office_hours)


def _table(r: _Reader, ctx: _Ctx, data: dict[str, Any], key: str,
           required: bool = True) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        if required:
            r.problems.append((0, f"{r.path}: [{key}] tidak ada; seharusnya tabel"))
        return {}
    if not isinstance(value, dict):
        r.problem(ctx, key, "seharusnya tabel")
        return {}
    return value


def _each(r: _Reader, data: dict[str, Any], key: str,
          parse: Callable[[_Ctx, dict[str, Any]], T | None]) -> list[T]:
    items = data.get(key, [])
    if not isinstance(items, list):
        r.problems.append((0, f"{r.path}: {key}: seharusnya entri [[{key}]]"))
        return []
    out: list[T] = []
    for index, item in enumerate(items):
        ctx = _Ctx(key, index)
        if not isinstance(item, dict):
            r.problem(ctx, None, "seharusnya tabel")
            continue
        ctx.label = str(item.get("code") or item.get("name") or item.get("nip") or "")
        parsed = parse(ctx, item)
        if parsed is not None:
            out.append(parsed)
    return out


def _duplicates(r: _Reader, data: dict[str, Any], table: str, key: str,
                label: str = "") -> None:
    """Report every entry whose `key` repeats an earlier entry's (raw values, real indexes)."""
    entries = data.get(table, [])
    if not isinstance(entries, list):
        return
    seen: set[Any] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get(key) in (None, ""):
            continue
        value = entry[key]
        if value in seen:
            ctx = _Ctx(table, index, str(entry.get("code") or entry.get("name") or ""))
            r.problem(ctx, key, f"{label or key} {value!r} ganda; setiap nilai harus unik")
        seen.add(value)


def _address(r: _Reader, ctx: _Ctx, t: dict[str, Any]) -> tuple[str, ...]:
    lines = r.get(ctx, t, "address", list, required=False, default=[]) or []
    if not all(isinstance(x, str) for x in lines):
        r.problem(ctx, "address", "seharusnya daftar baris teks")
        return ()
    return tuple(lines)


def _office(r: _Reader, t: dict[str, Any], base: Path) -> Office | None:
    ctx = _Ctx("office")
    if not t:
        return None
    r.unknown_keys(ctx, t, {"code", "name", "government", "city", "address", "phone",
                            "website", "email", "logo"})
    code = r.text(ctx, t, "code", pattern=CODE_RE, expected="huruf, angka, . _ - (maks. 32)")
    name = r.text(ctx, t, "name")
    logo_text = r.text(ctx, t, "logo", required=False)
    logo = _readable(r, ctx, "logo", logo_text, base) if logo_text else None
    phone, website, email = (r.text(ctx, t, k, required=False) or ""
                             for k in ("phone", "website", "email"))
    if code is None or name is None:
        return None
    return Office(code=code, name=name, address=_address(r, ctx, t), is_office=True,
                  government=r.text(ctx, t, "government", required=False)
                  or "Pemerintah Kabupaten Kutai Kartanegara",
                  city=r.text(ctx, t, "city", required=False) or "Tenggarong",
                  logo=logo, phone=phone, website=website, email=email)


def _agency(r: _Reader, ctx: _Ctx, t: dict[str, Any]) -> Agency | None:
    r.unknown_keys(ctx, t, {"code", "name", "address", "letter_signer", "letter_pattern"})
    code = r.text(ctx, t, "code", pattern=CODE_RE, expected="huruf, angka, . _ - (maks. 32)")
    name = r.text(ctx, t, "name")
    pattern = r.text(ctx, t, "letter_pattern", required=False)
    if pattern is not None and not _valid_pattern(pattern):
        r.problem(ctx, "letter_pattern", _not_a_pattern(pattern))
        pattern = None
    signer = _signatory(r, ctx, t)
    if code is None or name is None:
        return None
    return Agency(code, name, _address(r, ctx, t), letter_signer=signer,
                  letter_pattern=pattern)


def _signatory(r: _Reader, ctx: _Ctx, t: dict[str, Any]) -> Signatory | None:
    raw = r.get(ctx, t, "letter_signer", dict, required=False)
    if raw is None:
        return None
    r.unknown_keys(ctx, raw, {"name", "jabatan", "pangkat", "nip"})
    name, jabatan = raw.get("name"), raw.get("jabatan")
    nip = raw.get("nip", "")
    if not isinstance(name, str) or not name.strip() or not isinstance(jabatan, str) or \
            not jabatan.strip():
        r.problem(ctx, "letter_signer", "seharusnya { name = \"...\", jabatan = \"...\", "
                                        "pangkat = \"...\", nip = \"...\" } (nama dan jabatan "
                                        "wajib)")
        return None
    if nip and (not isinstance(nip, str) or not NIP_RE.match(nip)):
        r.problem(ctx, "letter_signer", f"nip {nip!r} tidak sah; seharusnya NIP: 18 digit "
                                        "angka")
        return None
    pangkat = raw.get("pangkat", "")
    return Signatory(name.strip(), jabatan.strip(),
                     pangkat.strip() if isinstance(pangkat, str) else "", nip)


def _roles(r: _Reader, ctx: _Ctx, t: dict[str, Any]) -> tuple[Role, ...]:
    raw = r.get(ctx, t, "roles", list, default=[]) or []
    roles: list[Role] = []
    valid = ", ".join(role.value for role in Role)
    for value in raw:
        try:
            roles.append(Role(value))
        except ValueError:
            r.problem(ctx, "roles", f"peran {value!r} tidak dikenal; pilihan: {valid}")
    if not raw and "roles" in t:
        r.problem(ctx, "roles", f"kosong; isi minimal satu dari {valid}")
    return tuple(dict.fromkeys(roles))


def _person(r: _Reader, ctx: _Ctx, t: dict[str, Any], codes: set[str]) -> PersonEntry | None:
    r.unknown_keys(ctx, t, {"nip", "name", "jabatan", "pangkat", "roles", "agency",
                            "telegram_id", "email"})
    nip = r.text(ctx, t, "nip", pattern=NIP_RE, expected="NIP: 18 digit angka")
    name = r.text(ctx, t, "name")
    roles = _roles(r, ctx, t)
    agency = r.text(ctx, t, "agency", required=False)
    if agency is not None and agency not in codes:
        r.problem(ctx, "agency", f"instansi {agency!r} tidak dikenal; gunakan kode dari "
                                 "[office] atau [[agencies]]")
        agency = None
    elif agency is None and Role.OPD in roles:
        r.problem(ctx, "agency", "belum diisi; pegawai berperan 'opd' wajib menyebut instansinya")
    telegram_id = r.get(ctx, t, "telegram_id", int, required=False)
    if telegram_id is not None and telegram_id <= 0:
        r.problem(ctx, "telegram_id", f"{telegram_id} bukan id pengguna Telegram; seharusnya "
                                      "bilangan positif")
        telegram_id = None
    email = r.text(ctx, t, "email", required=False, pattern=EMAIL_RE,
                   expected="alamat e-mail seperti nama@kukarkab.go.id")
    if nip is None or name is None or not roles:
        return None
    return PersonEntry(nip, name, roles, r.text(ctx, t, "jabatan", required=False) or "",
                       r.text(ctx, t, "pangkat", required=False) or "", agency, telegram_id,
                       email.strip().lower() if email else None)


def _acting(r: _Reader, ctx: _Ctx, t: dict[str, Any],
            by_nip: dict[str, PersonEntry]) -> ActingEntry | None:
    r.unknown_keys(ctx, t, {"nip", "for_nip", "kind", "role", "from", "until"})
    nip = r.text(ctx, t, "nip", pattern=NIP_RE, expected="NIP dari [[people]]")
    for_nip = r.text(ctx, t, "for_nip", pattern=NIP_RE, expected="NIP dari [[people]]")
    kind = r.text(ctx, t, "kind")
    if kind is not None and kind not in ("Plt.", "Plh."):
        r.problem(ctx, "kind", f"{kind!r}; seharusnya \"Plt.\" atau \"Plh.\"")
        kind = None
    for key, value in (("nip", nip), ("for_nip", for_nip)):
        if value is not None and value not in by_nip:
            r.problem(ctx, key, f"tidak ada pegawai dengan NIP {value} di [[people]]")
    principal = by_nip.get(for_nip or "")
    role_text = r.text(ctx, t, "role", required=False)
    role: Role | None = None
    if role_text is not None:
        if role_text not in {x.value for x in ACTING_ROLES}:
            r.problem(ctx, "role", f"{role_text!r}; seharusnya kadis atau kabid")
        else:
            role = Role(role_text)
    elif principal is not None:
        official = [x for x in principal.roles if x in ACTING_ROLES]
        if len(official) == 1:
            role = official[0]
        else:
            r.problem(ctx, "role", "belum diisi; seharusnya kadis atau kabid")
    if role is not None and principal is not None and role not in principal.roles:
        r.problem(ctx, "role", f"pejabat yang digantikan (NIP {principal.nip}) tidak "
                               f"berperan {role.value!r}")
    start = r.get(ctx, t, "from", date)
    end = r.get(ctx, t, "until", date)
    if start and end and end < start:
        r.problem(ctx, "until", f"{end} lebih awal dari from ({start})")
        return None
    if None in (nip, for_nip, kind, role, start, end) or nip == for_nip:
        if nip is not None and nip == for_nip:
            r.problem(ctx, "for_nip", "seseorang tidak dapat menggantikan dirinya sendiri")
        return None
    assert nip and for_nip and kind and role and start and end
    return ActingEntry(nip, for_nip, role, kind, start, end)


def _readable(r: _Reader, ctx: _Ctx, key: str, value: str, base: Path) -> Path | None:
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        r.problem(ctx, key, f"{value!r}: berkas tidak ada")
        return None
    if not os.access(path, os.R_OK):
        r.problem(ctx, key, f"{value!r}: tidak dapat dibaca oleh pengguna ini")
        return None
    return path


def _host(r: _Reader, ctx: _Ctx, t: dict[str, Any]) -> str | None:
    host = r.text(ctx, t, "host")
    if host is None:
        return None
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if not HOST_RE.match(host):
        r.problem(ctx, "host", f"{host!r} bukan nama host atau alamat IP")
        return None
    return host


def _ssh(r: _Reader, ctx: _Ctx, t: dict[str, Any], base: Path) -> SshTarget | None:
    host = _host(r, ctx, t)
    port = r.get(ctx, t, "port", int, required=False, default=22) or 22
    if not 1 <= port <= 65535:
        r.problem(ctx, "port", f"{port} bukan port TCP; seharusnya 1-65535")
    user = r.text(ctx, t, "user", pattern=USER_RE, expected="nama pengguna Unix")
    key_text = r.text(ctx, t, "key")
    key = _readable(r, ctx, "key", key_text, base) if key_text else None
    known_text = r.text(ctx, t, "known_hosts")
    known = _readable(r, ctx, "known_hosts", known_text, base) if known_text else None
    sudo = r.get(ctx, t, "sudo", bool, required=False, default=False) or False
    if host is None or user is None or key is None or known is None:
        return None
    return SshTarget(host, port, user, key, known, sudo)


_SSH_KEYS = {"host", "port", "user", "key", "known_hosts", "sudo"}


def _backup_server(r: _Reader, ctx: _Ctx, t: dict[str, Any],
                   base: Path) -> BackupServerEntry | None:
    r.unknown_keys(ctx, t, _SSH_KEYS | {"name", "root", "layout", "pattern", "max_rate",
                                        "max_restores", "zone"})
    name = r.text(ctx, t, "name", pattern=CODE_RE, expected="huruf, angka, . _ - (maks. 32)")
    ssh = _ssh(r, ctx, t, base)
    root = r.text(ctx, t, "root", pattern=SAFE_PATH_RE,
                  expected="path absolut dari huruf, angka, . _ -")
    if root is not None and "/../" in f"{root}/":
        r.problem(ctx, "root", f"{root!r} tidak boleh memuat '..'")
        root = None
    layout = r.text(ctx, t, "layout", required=False) or "points"
    if layout not in BACKUP_LAYOUTS:
        r.problem(ctx, "layout", f"{layout!r}; pilihan: {', '.join(BACKUP_LAYOUTS)}")
    pattern = r.text(ctx, t, "pattern", required=False) or ""
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            r.problem(ctx, "pattern", f"bukan regular expression yang sah ({exc})")
    max_rate = _rate(r, ctx, t)
    at_once = _whole(r, ctx, t, "max_restores", 1, 16, 2)
    zone = r.text(ctx, t, "zone", required=False, pattern=CODE_RE,
                  expected="huruf, angka, . _ - (maks. 32)")
    if name is None or ssh is None or root is None:
        return None
    return BackupServerEntry(name, ssh, root, layout, pattern, max_rate, at_once, zone)


def _system(r: _Reader, ctx: _Ctx, t: dict[str, Any], base: Path, codes: set[str],
            servers: set[str]) -> SystemEntry | None:
    r.unknown_keys(ctx, t, _SSH_KEYS | {"code", "name", "agency", "recipe", "database",
                                        "app_dir", "health_url", "backup_server",
                                        "backup_path", "db_host", "db_port", "db_user",
                                        "db_defaults_file", "db_import_user", "run_as",
                                        "staging_dir", "max_rate", "pull_key",
                                        "pull_known_hosts", "pull_host", "pull_user",
                                        "priority", "zone", "backup_every_hours",
                                        "drill_every_days", "restore_24_7"})
    code = r.text(ctx, t, "code", pattern=CODE_RE, expected="huruf, angka, . _ - (maks. 32)")
    name = r.text(ctx, t, "name")
    agency = r.text(ctx, t, "agency")
    if agency is None and "agency" not in t:
        pass  # reported as missing by r.text
    elif agency is not None and agency not in codes:
        r.problem(ctx, "agency", f"instansi {agency!r} tidak dikenal; setiap sistem harus "
                                 "dimiliki instansi dari [[agencies]]")
        agency = None
    recipe = r.text(ctx, t, "recipe")
    if recipe is not None and recipe not in RECIPES:
        r.problem(ctx, "recipe", f"jenis resep {recipe!r} tidak dikenal; pilihan: "
                                 f"{', '.join(RECIPES)}")
        recipe = None
    database = r.text(ctx, t, "database", required=recipe in ("mariadb", "postgresql"),
                      pattern=DB_NAME_RE, expected="huruf, angka dan _ (maks. 63)")
    app_dir = r.text(ctx, t, "app_dir", required=recipe == "files", pattern=SAFE_PATH_RE,
                     expected="path absolut dari huruf, angka, . _ -")
    if app_dir is not None and ("/../" in f"{app_dir}/" or app_dir.rstrip("/") in ("", "/")):
        r.problem(ctx, "app_dir", f"{app_dir!r} tidak diizinkan; seharusnya folder "
                                  "aplikasi, bukan / atau path dengan '..'")
        app_dir = None
    staging = r.text(ctx, t, "staging_dir", required=False, pattern=SAFE_PATH_RE,
                     expected="path absolut dari huruf, angka, . _ -")
    if staging is not None and ("/../" in f"{staging}/" or staging.rstrip("/") in ("", "/")
                                or (app_dir and _inside(staging, app_dir))):
        r.problem(ctx, "staging_dir", f"{staging!r} tidak diizinkan; seharusnya folder "
                                      "khusus staging, bukan / atau path dengan '..', dan "
                                      "tidak di dalam app_dir")
        staging = None
    health = r.engine_value(ctx, t, "health_url", url)
    max_rate = _rate(r, ctx, t)
    pull = _pull(r, ctx, t)
    priority = _whole(r, ctx, t, "priority", 1, 9, 5)
    every = _whole(r, ctx, t, "backup_every_hours", 1, 31 * 24, 24)
    drills = _whole(r, ctx, t, "drill_every_days", 1, 366, 0) or None
    always = r.get(ctx, t, "restore_24_7", bool, required=False, default=False) or False
    zone = r.text(ctx, t, "zone", required=False, pattern=CODE_RE,
                  expected="huruf, angka, . _ - (maks. 32)")
    server = r.text(ctx, t, "backup_server")
    if server is not None and server not in servers:
        r.problem(ctx, "backup_server", f"server backup {server!r} tidak dikenal; gunakan "
                                        "nama dari [[backup_servers]]")
        server = None
    backup_path = r.engine_value(ctx, t, "backup_path",
                                 lambda v: relative_path(v, "backup_path"))
    db = _db_access(r, ctx, t)
    ssh = _ssh(r, ctx, t, base)
    if db["run_as"] and ssh is not None and not (ssh.sudo or ssh.user == "root"):
        r.problem(ctx, "run_as", 'memerlukan sudo = true atau user = "root" (perintah '
                                 "dijalankan lewat runuser)")
        db["run_as"] = None
    if None in (code, name, agency, recipe, server, ssh):
        return None
    assert code and name and agency and recipe and server and ssh
    return SystemEntry(code, name, agency, recipe, ssh, server, backup_path or code,
                       database, app_dir, health, staging_dir=staging, max_rate=max_rate,
                       pull=pull, priority=priority, zone=zone, backup_every_hours=every,
                       drill_every_days=drills, restore_24_7=always, **db)


_RATE_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(KB|MB|GB|KiB|MiB|GiB|kbit|Kbit|Mbit|Gbit)/s\s*$")
_RATE_UNITS = {"KB": 1000, "MB": 1000**2, "GB": 1000**3, "KiB": 1 << 10, "MiB": 1 << 20,
               "GiB": 1 << 30, "kbit": 125, "Kbit": 125, "Mbit": 125_000,
               "Gbit": 125_000_000}
MIN_RATE = 64 << 10  # below this a restore of any real backup would take days


def _whole(r: _Reader, ctx: _Ctx, t: dict[str, Any], key: str, low: int, high: int,
           default: int) -> int:
    """An optional whole number from `low` to `high`; `default` when absent or wrong (a
    wrong one is named)."""
    value = t.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        r.problem(ctx, key, f"{value!r} tidak sah; seharusnya bilangan bulat {low} sampai "
                            f"{high}")
        return default
    return value


def _rate(r: _Reader, ctx: _Ctx, t: dict[str, Any]) -> int | None:
    """`max_rate`: how fast a backup file may move, e.g. "20 MB/s" or "100 Mbit/s"; bytes
    per second, or None for no limit."""
    text = r.text(ctx, t, "max_rate", required=False)
    if text is None:
        return None
    found = _RATE_RE.match(text)
    if found is None:
        r.problem(ctx, "max_rate", f"{text!r} tidak sah; seharusnya seperti \"20 MB/s\" atau "
                                   "\"100 Mbit/s\" (KB, MB, GB, KiB, MiB, GiB, kbit, Mbit, "
                                   "Gbit per detik)")
        return None
    value = int(float(found.group(1).replace(",", ".")) * _RATE_UNITS[found.group(2)])
    if value < MIN_RATE:
        r.problem(ctx, "max_rate", f"{text!r} terlalu kecil; paling sedikit 64 KiB/s")
        return None
    return value


def _pull(r: _Reader, ctx: _Ctx, t: dict[str, Any]) -> PullEntry | None:
    """`pull_key` and `pull_known_hosts` (paths on the target, both or neither): the target
    fetches its backups itself; `pull_host`, `pull_user` where it reaches the backup
    server otherwise than Pulih does."""
    expected = "path absolut di server tujuan dari huruf, angka, . _ -"
    key = r.text(ctx, t, "pull_key", required=False, pattern=SAFE_PATH_RE, expected=expected)
    known = r.text(ctx, t, "pull_known_hosts", required=False, pattern=SAFE_PATH_RE,
                   expected=expected)
    host = r.text(ctx, t, "pull_host", required=False, pattern=HOST_RE,
                  expected="nama host atau alamat IP")
    user = r.text(ctx, t, "pull_user", required=False, pattern=USER_RE,
                  expected="nama pengguna Unix")
    for name, value in (("pull_key", key), ("pull_known_hosts", known)):
        if value is not None and "/../" in f"{value}/":
            r.problem(ctx, name, f"{value!r} tidak boleh memuat '..'")
            return None
    if (key is None) != (known is None):
        missing = "pull_known_hosts" if known is None else "pull_key"
        r.problem(ctx, missing, "belum diisi; penarikan langsung memerlukan pull_key dan "
                                "pull_known_hosts (keduanya path di server tujuan)")
        return None
    if key is None or known is None:
        if host is not None or user is not None:
            r.problem(ctx, "pull_key", "belum diisi; pull_host/pull_user hanya berlaku "
                                       "bersama pull_key dan pull_known_hosts")
        return None
    return PullEntry(key, known, host, user)


def _inside(path: str, folder: str) -> bool:
    """`path` is `folder` or lies under it (both absolute, normalised by the caller's
    pattern)."""
    return f"{path.rstrip('/')}/".startswith(f"{folder.rstrip('/')}/")


def _db_access(r: _Reader, ctx: _Ctx, t: dict[str, Any]) -> dict[str, Any]:
    """How the recipe reaches the database server on the target (no passwords here)."""
    host = r.text(ctx, t, "db_host", required=False)
    if host is not None and not (SAFE_PATH_RE.match(host) or HOST_RE.match(host)):
        r.problem(ctx, "db_host", f"{host!r} bukan nama host atau path soket yang sah")
        host = None
    port = r.get(ctx, t, "db_port", int, required=False)
    if port is not None and not 1 <= port <= 65535:
        r.problem(ctx, "db_port", f"{port} bukan port TCP; seharusnya 1-65535")
        port = None
    user = r.text(ctx, t, "db_user", required=False, pattern=DB_USER_RE,
                  expected="huruf, angka, . _ - (maks. 32)")
    defaults = r.text(ctx, t, "db_defaults_file", required=False, pattern=SAFE_PATH_RE,
                      expected="path absolut di server tujuan")
    importer = r.text(ctx, t, "db_import_user", required=False, pattern=DB_USER_RE,
                      expected="huruf, angka, . _ - (maks. 32)")
    if importer is not None and t.get("recipe") not in ("mariadb", "postgresql"):
        r.problem(ctx, "db_import_user", "hanya untuk resep mariadb dan postgresql")
        importer = None
    run_as = r.text(ctx, t, "run_as", required=False, pattern=SYSTEM_USER_RE,
                    expected="nama pengguna sistem: huruf kecil, angka, _ - (maks. 32)")
    if run_as is not None and t.get("recipe") == "mariadb":
        r.problem(ctx, "run_as", "belum didukung untuk resep mariadb (klien mysql berjalan "
                                 "dengan --sandbox)")
        run_as = None
    return {"db_host": host, "db_port": port, "db_user": user, "db_defaults_file": defaults,
            "db_import_user": importer, "run_as": run_as}


def _page_settings(r: _Reader, ctx: _Ctx, t: dict[str, Any], base: Path) -> dict[str, Any]:
    """Margins, font and templates of the documents: all optional."""
    out: dict[str, Any] = {}
    margins = r.get(ctx, t, "margins_mm", list, required=False, default=None)
    if margins is not None:
        if (len(margins) != 4 or not all(isinstance(x, int | float) and 5 <= x <= 60
                                         for x in margins)):
            r.problem(ctx, "margins_mm", "seharusnya 4 angka (atas, kanan, bawah, kiri) "
                                         "antara 5 dan 60 mm")
        else:
            out["margins"] = tuple(float(x) for x in margins)
    size = t.get("font_size")
    if size is not None:
        if not isinstance(size, int | float) or isinstance(size, bool) or not 8 <= size <= 16:
            r.problem(ctx, "font_size", "seharusnya angka antara 8 dan 16 (pt)")
        else:
            out["font_size"] = float(size)
    fonts = r.get(ctx, t, "font_files", list, required=False, default=None)
    if fonts is not None:
        if len(fonts) != 3 or not all(isinstance(x, str) for x in fonts):
            r.problem(ctx, "font_files", "seharusnya 3 path TTF: biasa, tebal, miring")
        else:
            paths = [_readable(r, ctx, "font_files", x, base) for x in fonts]
            if all(p is not None for p in paths):
                out["fonts"] = tuple(paths)
    templates = r.text(ctx, t, "templates", required=False)
    if templates:
        folder = (base / templates).resolve()
        if not folder.is_dir():
            r.problem(ctx, "templates", f"folder {folder} tidak ada")
        else:
            out["templates"] = folder
    tembusan = r.get(ctx, t, "tembusan", list, required=False, default=None)
    if tembusan is not None:
        if not all(isinstance(x, str) for x in tembusan):
            r.problem(ctx, "tembusan", "seharusnya daftar teks")
        else:
            out["tembusan"] = tuple(tembusan)
    return out


def _letters(r: _Reader, t: dict[str, Any], base: Path) -> LetterSettings | None:
    ctx = _Ctx("letters")
    r.unknown_keys(ctx, t, {"unit_code", "classification", "security_code", "paper",
                            "numbering", "notification_signer", "margins_mm", "font_size",
                            "font_files", "templates", "tembusan", "month_style"})
    defaults = LetterSettings()
    unit = r.text(ctx, t, "unit_code", required=False, pattern=CODE_RE,
                  expected="huruf, angka, . _ -") or defaults.unit_code
    classification = r.text(ctx, t, "classification", required=False,
                            pattern=re.compile(r"^\d{3}(?:\.\d+)*$"),
                            expected="kode klasifikasi arsip seperti 000.6",
                            ) or defaults.classification
    security = r.text(ctx, t, "security_code", required=False) or defaults.security_code
    if security not in ("B", "T", "R", "SR"):
        r.problem(ctx, "security_code", f"{security!r}; seharusnya B, T, R atau SR")
    paper = r.text(ctx, t, "paper", required=False) or defaults.paper
    if paper not in ("F4", "A4"):
        r.problem(ctx, "paper", f"{paper!r}; seharusnya F4 atau A4")
    signer_text = r.text(ctx, t, "notification_signer", required=False) or "kadis"
    if signer_text not in ("kadis", "kabid"):
        r.problem(ctx, "notification_signer", f"{signer_text!r}; seharusnya kadis atau kabid")
        signer_text = "kadis"
    style = r.text(ctx, t, "month_style", required=False) or "angka"
    if style not in MONTH_FIELD:
        r.problem(ctx, "month_style", f"{style!r}; seharusnya angka atau romawi")
        style = "angka"
    numbering = {kind: pattern.replace("{month:02d}", "{" + MONTH_FIELD[style] + "}")
                 for kind, pattern in DEFAULT_NUMBERING.items()}
    raw = r.get(ctx, t, "numbering", dict, required=False, default={}) or {}
    num_ctx = _Ctx("letters.numbering")
    for kind, pattern in raw.items():
        if kind not in DOCUMENT_KINDS:
            r.problem(num_ctx, kind, f"jenis dokumen tidak dikenal; pilihan: "
                                     f"{', '.join(DOCUMENT_KINDS)}")
        elif not isinstance(pattern, str) or not _valid_pattern(pattern):
            r.problem(num_ctx, kind, _not_a_pattern(pattern))
        elif _month_fields(pattern) - {MONTH_FIELD[style]}:
            r.problem(num_ctx, kind, f"{pattern!r} memakai bulan {_other(style)}, padahal "
                                     f"month_style kantor ini {style}: satu gaya bulan untuk "
                                     "semua surat")
        else:
            numbering[kind] = pattern
    return LetterSettings(unit, classification, security, paper, numbering, Role(signer_text),
                          month_style=style, **_page_settings(r, ctx, t, base))


MONTH_FIELD = {"angka": "month", "romawi": "month_roman"}
_CLOCK_RE = re.compile(r"^([01]?\d|2[0-3])[.:]([0-5]\d)$")


def _watch(r: _Reader, t: dict[str, Any]) -> WatchSettings:
    """[watch]: the morning backup watch (every key optional)."""
    ctx = _Ctx("watch")
    r.unknown_keys(ctx, t, {"at", "shrink", "full_cycle_days", "grace_hours", "drill_at"})
    defaults = WatchSettings()
    at = _clock(r, ctx, t, "at", defaults.at)
    drill_at = _clock(r, ctx, t, "drill_at", defaults.drill_at)
    shrink = t.get("shrink", defaults.shrink)
    if isinstance(shrink, bool) or not isinstance(shrink, int | float) or not 0 < shrink < 1:
        r.problem(ctx, "shrink", f"{shrink!r} tidak sah; seharusnya pecahan antara 0 dan 1, "
                                 "seperti 0.3 (30% lebih kecil dari biasanya)")
        shrink = defaults.shrink
    cycle = _whole(r, ctx, t, "full_cycle_days", 1, 31, defaults.full_cycle_days)
    grace = _whole(r, ctx, t, "grace_hours", 0, 72, defaults.grace_hours)
    return WatchSettings(at, float(shrink), cycle, grace, drill_at)


DAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
_HOURS_RE = re.compile(r"^\s*([01]?\d|2[0-3])[.:]([0-5]\d)\s*-\s*([01]?\d|2[0-3])[.:]([0-5]\d)\s*$")


def _office_hours(r: _Reader, t: dict[str, Any]) -> OfficeHours:
    """[office_hours]: opening hours per day ("07.30-16.00", or "libur"), the steps whose
    Mutu Baku counts in working time, national holidays and cuti bersama on or off, and
    the office's own days off (dates, or tables with `tanggal` and `nama`)."""
    ctx = _Ctx("office_hours")
    r.unknown_keys(ctx, t, {*DAYS, "working_time_steps", "national_holidays", "cuti_bersama",
                            "days_off"})
    defaults = OfficeHours()
    hours = list(defaults.hours)
    for index, day in enumerate(DAYS):
        text = r.text(ctx, t, day, required=False)
        if text is None:
            continue
        match = _HOURS_RE.match(text)
        if text.strip().lower() == "libur":
            hours[index] = None
        elif match is None or (int(match[1]), int(match[2])) >= (int(match[3]), int(match[4])):
            r.problem(ctx, day, f"{text!r} tidak sah; seharusnya jam buka-tutup seperti "
                                "\"07.30-16.00\", atau \"libur\"")
        else:
            hours[index] = (time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4])))
    if all(h is None for h in hours):
        r.problem(ctx, None, "setiap hari libur: kantor harus buka paling sedikit satu hari")
        hours = list(defaults.hours)
    steps = t.get("working_time_steps", [])
    if not isinstance(steps, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 8 for n in steps):
        r.problem(ctx, "working_time_steps", f"{steps!r} tidak sah; seharusnya daftar nomor "
                                             "langkah SOP 1 sampai 8, seperti [1, 2, 3, 6, 7, 8]")
        steps = []
    national = r.get(ctx, t, "national_holidays", bool, required=False, default=True)
    joint = r.get(ctx, t, "cuti_bersama", bool, required=False, default=True)
    days_off: list[tuple[date, str]] = []
    raw = t.get("days_off", [])
    for item in raw if isinstance(raw, list) else [raw]:
        if isinstance(item, date) and not isinstance(item, datetime):
            days_off.append((item, "libur kantor"))
        elif isinstance(item, dict) and isinstance(item.get("tanggal"), date) and \
                not isinstance(item.get("tanggal"), datetime) and \
                isinstance(item.get("nama", ""), str) and set(item) <= {"tanggal", "nama"}:
            days_off.append((item["tanggal"], item.get("nama") or "libur kantor"))
        else:
            r.problem(ctx, "days_off", f"{item!r} tidak sah; seharusnya tanggal seperti "
                                       "2027-12-24, atau { tanggal = 2027-12-24, nama = "
                                       "\"Cuti bersama Natal\" }")
    return OfficeHours(tuple(hours), frozenset(steps), national is not False, joint is not False,
                       tuple(days_off))


def _clock(r: _Reader, ctx: _Ctx, t: dict[str, Any], key: str, default: time) -> time:
    """An hour of the office's day, written "06.00" or "06:00"."""
    text = r.text(ctx, t, key, required=False)
    if text is None:
        return default
    match = _CLOCK_RE.match(text)
    if match is None:
        r.problem(ctx, key, f"{text!r} tidak sah; seharusnya jam seperti \"06.00\" (waktu "
                            "kantor)")
        return default
    return time(int(match.group(1)), int(match.group(2)))


def _month_fields(pattern: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(pattern)
            if f in ("month", "month_roman")}


def _other(style: str) -> str:
    return "Romawi" if style == "angka" else "angka"


def _not_a_pattern(pattern: object) -> str:
    fields = ", ".join("{" + f + "}" for f in sorted(NUMBER_FIELDS - {"seq"}))
    return f"{pattern!r} bukan pola penomoran; gunakan {{seq}} dan boleh juga {fields}"


def _valid_pattern(pattern: str) -> bool:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
        pattern.format(security="B", seq=1, unit="U", classification="000.6", month=1,
                       month_roman="I", year=2026)
    except (ValueError, KeyError, IndexError):
        return False
    return "seq" in fields and set(fields) <= NUMBER_FIELDS
