"""`pulih doctor`: is this installation ready to run? One finding per thing checked."""

from __future__ import annotations

import enum
import json
import shutil
import stat
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.db.migrate import current_revision, head_revision
from bot.db.models import Person, System
from bot.errors import ConfigError
from bot.examples import example
from bot.inventory.loader import load_inventory
from bot.inventory.model import Inventory, SshTarget, SystemEntry
from bot.services.audit.key import key_path
from bot.settings import Settings
from letters.timefmt import local_date, tanggal
from restore.errors import RestoreError
from restore.pull import Pull
from restore.ssh import Endpoint, connect

CERT_WARN_DAYS = 30
DISK_WARN = 2 * 1024**3  # bytes free under the data folder
DISK_FAIL = 256 * 1024**2
SSH_TIMEOUT = 10.0
PARALLEL = 8
# A name no backup folder holds: asked for by `pulih doctor`, refused by the forced command
# (and, were the key not restricted to it, a command not found: harmless either way).
PULL_PROBE = "pulih-periksa-kunci-tarik"
PULL_REFUSED = "pulih-baca-backup: ditolak"


class Level(enum.IntEnum):
    OK = 0
    WARN = 1
    FAIL = 2


@dataclass(frozen=True)
class Finding:
    level: Level
    subject: str
    detail: str


def examine(settings: Settings, engine: Engine, sessions: Callable[[], Session],
            now: datetime) -> Iterator[Finding]:
    """Every check in order; network checks (SSH, the Bot API) are bounded by timeouts."""
    yield Finding(Level.OK, "pengaturan", f"dibaca; zona waktu {settings.timezone.key}")
    yield from _data_folder(settings)
    revision_ok = yield from _database(engine)
    inventory = yield from _inventory(settings)
    if inventory is not None and revision_ok:
        yield from _synced(inventory, sessions)
    if inventory is not None:
        yield from _files(inventory)
        if _is_example(settings.inventory_path):
            yield Finding(Level.WARN, "server", "tidak dihubungi: inventaris masih contoh "
                                                "(alamatnya rekaan)")
        else:
            yield from _reachable(inventory)
    yield from _bot_api(settings)
    yield from _certificate(settings, now)
    yield from _disk(settings.data_dir)


def _private(path: Path) -> bool:
    return not path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def _data_folder(settings: Settings) -> Iterator[Finding]:
    folder = settings.data_dir
    if not folder.is_dir():
        yield Finding(Level.FAIL, "folder data", f"{folder} tidak ada; jalankan: pulih init")
        return
    loose = [p for p in (settings.sqlite_file(), key_path(folder))
             if p is not None and p.is_file() and not _private(p)]
    if loose:
        yield Finding(Level.WARN, "folder data", "dapat dibaca pengguna lain: "
                      + ", ".join(map(str, loose)) + f"; perbaiki: chmod 600 {loose[0]}")
    elif not key_path(folder).is_file():
        yield Finding(Level.FAIL, "folder data", f"kunci catatan kegiatan {key_path(folder)} "
                                                 "tidak ada; jalankan: pulih init")
    else:
        yield Finding(Level.OK, "folder data", f"{folder}, hanya untuk pengguna ini")


def _database(engine: Engine) -> Generator[Finding, None, bool]:
    try:
        revision = current_revision(engine)
    except Exception as exc:  # any driver's failure to connect is this check's answer
        yield Finding(Level.FAIL, "basis data", f"tidak dapat dibuka: {type(exc).__name__}")
        return False
    head = head_revision()
    if revision != head:
        yield Finding(Level.FAIL, "basis data", f"skema pada revisi {revision or '(kosong)'}, "
                                                f"terbaru {head}; jalankan: pulih db upgrade")
        return False
    yield Finding(Level.OK, "basis data", f"{engine.dialect.name}, skema revisi {revision}")
    return True


def _inventory(settings: Settings) -> Generator[Finding, None, Inventory | None]:
    try:
        inventory = load_inventory(settings.inventory_path)
    except ConfigError as exc:
        more = f" (dan {len(exc.problems) - 1} masalah lain)" if len(exc.problems) > 1 else ""
        yield Finding(Level.FAIL, "inventaris", exc.problems[0] + more)
        return None
    yield Finding(Level.OK, "inventaris", f"{settings.inventory_path}: "
                  f"{len(inventory.people)} pegawai, {len(inventory.backup_servers)} server "
                  f"backup, {len(inventory.systems)} sistem")
    return inventory


def _is_example(path: Path) -> bool:
    try:
        return path.read_bytes() == example("inventory.example.toml").read_bytes()
    except OSError:
        return False


def _synced(inventory: Inventory, sessions: Callable[[], Session]) -> Iterator[Finding]:
    with sessions() as session:
        systems = set(session.execute(select(System.code).where(System.active.is_(True)))
                      .scalars())
        people = set(session.execute(select(Person.nip).where(Person.active.is_(True)))
                     .scalars())
    if systems != {s.code for s in inventory.systems} or \
            people != {p.nip for p in inventory.people}:
        yield Finding(Level.WARN, "sinkron", "basis data belum memuat inventaris terbaru; "
                                             "jalankan: pulih inventory sync")
    else:
        yield Finding(Level.OK, "sinkron", "basis data sesuai inventaris")


def _targets(inventory: Inventory) -> list[tuple[str, str, SshTarget]]:
    """(subject of the line, endpoint name, how to reach it) for every server."""
    return [*((f"server backup {b.name}", b.name, b.ssh) for b in inventory.backup_servers),
            *((f"sistem {s.code}", s.code, s.ssh) for s in inventory.systems)]


def _files(inventory: Inventory) -> Iterator[Finding]:
    keys = sorted({t.key for _, _, t in _targets(inventory)})
    known = sorted({t.known_hosts for _, _, t in _targets(inventory)})
    for key in keys:
        if not key.is_file():
            yield Finding(Level.FAIL, "kunci SSH", f"{key} tidak ada")
        elif not _private(key):
            yield Finding(Level.FAIL, "kunci SSH", f"{key} dapat dibaca pengguna lain; "
                                                   f"perbaiki: chmod 600 {key}")
        else:
            yield Finding(Level.OK, "kunci SSH", f"{key}, hanya untuk pengguna ini")
    for path in known:
        if not path.is_file():
            yield Finding(Level.FAIL, "known_hosts", f"{path} tidak ada")
        elif path.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            yield Finding(Level.WARN, "known_hosts", f"{path} dapat diubah pengguna lain "
                                                     f"(kunci host palsu); perbaiki: "
                                                     f"chmod 644 {path}")
        else:
            yield Finding(Level.OK, "known_hosts", f"{path}")


def _endpoint(name: str, target: SshTarget) -> Endpoint:
    return Endpoint(name, target.host, target.port, target.user, target.key,
                    target.known_hosts, target.sudo)


def _reach(subject: str, name: str, target: SshTarget) -> Finding:
    try:
        connect(_endpoint(name, target), timeout=SSH_TIMEOUT).close()
    except RestoreError as exc:
        return Finding(Level.FAIL, subject, exc.message)
    return Finding(Level.OK, subject, f"{target.host}:{target.port} terhubung, kunci host "
                                      "cocok")


def _pulls(inventory: Inventory) -> list[tuple[SystemEntry, Pull]]:
    """Every system whose target fetches its backups itself, and how it does."""
    servers = {b.name: b.ssh for b in inventory.backup_servers}
    found = []
    for system in inventory.systems:
        if system.pull is not None:
            server, pull = servers[system.backup_server], system.pull
            found.append((system, Pull(pull.host or server.host, server.port,
                                       pull.user or server.user, pull.key,
                                       pull.known_hosts)))
    return found


def _pull_works(system: SystemEntry, pull: Pull) -> Finding:
    """The target asks the backup server for a file that is not there, as a restore would
    ask for one that is: the forced command's refusal proves the key is accepted, the
    backup server's host key matches the pinned one, and the key runs nothing else."""
    subject = f"tarik {system.code}"
    try:
        remote = connect(_endpoint(system.code, system.ssh), timeout=SSH_TIMEOUT)
        try:
            answer = remote.run(*pull.ssh(PULL_PROBE), check=False, timeout=3 * SSH_TIMEOUT)
        finally:
            remote.close()
    except RestoreError as exc:
        return Finding(Level.FAIL, subject, exc.message)
    said = answer.error_text() or "-"
    if answer.status == 2 and PULL_REFUSED in answer.stderr.decode("utf-8", "replace"):
        return Finding(Level.OK, subject, f"{system.code} menarik backup dari {pull.host}:"
                                          f"{pull.port}: kunci diterima, kunci host cocok, "
                                          "hanya pulih-baca-backup yang dijalankan")
    if answer.status == 255:
        return Finding(Level.FAIL, subject, f"{system.code} tidak dapat masuk ke {pull.host}:"
                                            f"{pull.port} dengan kunci tariknya: {said}")
    return Finding(Level.FAIL, subject, f"kunci tarik {system.code} di {pull.host} tidak "
                                        "dibatasi pada pulih-baca-backup (baris "
                                        f"authorized_keys: lihat README): {said}")


def _reachable(inventory: Inventory) -> Iterator[Finding]:
    targets = _targets(inventory)
    with ThreadPoolExecutor(min(PARALLEL, max(1, len(targets)))) as pool:
        yield from pool.map(lambda each: _reach(*each), targets)
    pulls = _pulls(inventory)
    if pulls:
        with ThreadPoolExecutor(min(PARALLEL, len(pulls))) as pool:
            yield from pool.map(lambda each: _pull_works(*each), pulls)


def _bot_api(settings: Settings) -> Iterator[Finding]:
    if not settings.bot_token:
        yield Finding(Level.WARN, "Bot API", "PULIH_BOT_TOKEN belum diisi (wajib untuk "
                                             "pulih run)")
        return
    # The settings allow only http(s) URLs here (https unless to this machine).
    asked = urllib.request.Request(  # noqa: S310
        f"{settings.bot_api_url}{settings.bot_token}/getMe", data=b"{}",
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(asked, timeout=SSH_TIMEOUT) as answer:  # noqa: S310
            me = json.loads(answer.read())["result"]
    except urllib.error.HTTPError as exc:
        words = "token ditolak" if exc.code in (401, 404) else f"menjawab HTTP {exc.code}"
        yield Finding(Level.FAIL, "Bot API", words)
        return
    except (OSError, ValueError, KeyError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        yield Finding(Level.FAIL, "Bot API", f"tidak dapat dihubungi: {reason}")
        return
    yield Finding(Level.OK, "Bot API", f"token diterima: @{me.get('username', '?')}")


def _certificate(settings: Settings, now: datetime) -> Iterator[Finding]:
    if settings.signing_p12 is None or settings.signing_passphrase_file is None:
        yield Finding(Level.OK, "sertifikat TTE", "tidak diatur (dokumen tanpa tanda tangan "
                                                  "elektronik)")
        return
    try:
        passphrase = settings.signing_passphrase_file.read_bytes().strip()
        _, cert, _ = pkcs12.load_key_and_certificates(settings.signing_p12.read_bytes(),
                                                      passphrase)
    except (OSError, ValueError) as exc:
        yield Finding(Level.FAIL, "sertifikat TTE", f"{settings.signing_p12} tidak dapat "
                                                    f"dibuka: {type(exc).__name__}")
        return
    if cert is None:
        yield Finding(Level.FAIL, "sertifikat TTE", f"{settings.signing_p12} tanpa sertifikat")
        return
    until = cert.not_valid_after_utc
    shown = tanggal(local_date(until, settings.timezone))
    if until <= now:
        yield Finding(Level.FAIL, "sertifikat TTE", f"kedaluwarsa sejak {shown}")
    elif until - now < timedelta(days=CERT_WARN_DAYS):
        yield Finding(Level.WARN, "sertifikat TTE", f"berakhir {shown}; perpanjang")
    else:
        yield Finding(Level.OK, "sertifikat TTE", f"berlaku sampai {shown}")


def _disk(folder: Path) -> Iterator[Finding]:
    where = folder if folder.is_dir() else Path.cwd()
    free = shutil.disk_usage(where).free
    shown = f"{free / 1024**3:.1f} GiB bebas di {where}"
    level = Level.FAIL if free < DISK_FAIL else Level.WARN if free < DISK_WARN else Level.OK
    yield Finding(level, "ruang disk", shown)
