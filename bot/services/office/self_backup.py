"""Pulih backs itself up: its database (SQLite's online backup API, or `pg_dump`), the
issued documents and the activity record's key, into a folder per backup with SHA256SUMS
and a manifest; each copy is opened and its activity record verified before it counts.
`self_restore` puts one back, keeping what it replaces."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.bootstrap import Container
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import current_revision
from bot.db.models import AuditEvent, LetterNumber, Request
from bot.errors import PulihError
from bot.render import render_text
from bot.services.audit.chain import verify_chain
from bot.services.audit.key import KEY_FILE, KeySource
from bot.services.outbox.queue import enqueue
from bot.settings import Settings

PREFIX = "pulih-"
STAMP = "%Y%m%d-%H%M%S"
SUMS = "SHA256SUMS"
MANIFEST = "manifest.json"
SQLITE_COPY = "pulih.sqlite3"
PG_COPY = "pulih.dump"
DOCUMENTS = "dokumen.tar.gz"
FOLDERS = ("documents", "uploads")  # under the data folder: what was issued and received
DUMP_TIMEOUT = 3600

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counts:
    requests: int
    events: int
    numbers: int


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    counts: Counts
    size: int
    verified: str  # what the verification did, said to the team
    removed: tuple[str, ...]  # older backups past their keeping time


class SelfBackupError(PulihError):
    """A backup or restore of Pulih itself that did not complete; the message says why."""


def backup_root(settings: Settings) -> Path:
    return settings.self_backup_dir or settings.data_dir / "cadangan"


def backups(root: Path) -> list[Path]:
    """Complete backups (with their checksums written), newest first."""
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir()
                   if p.is_dir() and p.name.startswith(PREFIX) and (p / SUMS).is_file()),
                  key=lambda p: p.name, reverse=True)


def due(settings: Settings, now: datetime) -> bool:
    """Whether the daily backup has not been made yet today (restarts make no extra)."""
    made = backups(backup_root(settings))
    if not made:
        return True
    newest = datetime.strptime(made[0].name[len(PREFIX):], STAMP).replace(tzinfo=now.tzinfo)
    return now - newest >= timedelta(hours=20)


def self_backup(settings: Settings, now: datetime) -> BackupResult:
    """Make, check and register one backup; older ones past `self_backup_keep_days` go."""
    root = backup_root(settings)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = root / f"{PREFIX}{now.strftime(STAMP)}"
    work = Path(tempfile.mkdtemp(prefix=".membuat-", dir=root))
    try:
        if settings.sqlite_file() is not None:
            _copy_sqlite(_sqlite_file(settings), work / SQLITE_COPY)
        else:
            _pg(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={work / PG_COPY}"], settings.database_url)
        key = settings.data_dir / KEY_FILE
        if key.is_file():
            shutil.copy2(key, work / KEY_FILE)
        with tarfile.open(work / DOCUMENTS, "w:gz") as archive:
            for name in FOLDERS:
                if (settings.data_dir / name).is_dir():
                    archive.add(settings.data_dir / name, arcname=name)
        counts, verified = _verify(work, settings)
        (work / MANIFEST).write_text(json.dumps({
            "dibuat_utc": now.isoformat(), "basis_data": _kind(settings),
            "permohonan": counts.requests, "kejadian": counts.events,
            "nomor_surat": counts.numbers}, indent=2) + "\n", encoding="utf-8")
        _write_sums(work)
        work.rename(folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    removed = _prune(root, now - timedelta(days=settings.self_backup_keep_days), folder)
    size = sum(p.stat().st_size for p in folder.iterdir())
    return BackupResult(folder, counts, size, verified, removed)


def self_restore(settings: Settings, folder: Path, now: datetime) -> tuple[Counts, list[str]]:
    """Put the backup in `folder` back as the live database, documents and key. What it
    replaces is kept beside it (renamed with `sebelum-<time>`), never deleted; the lines
    say where."""
    bad = check_sums(folder)
    if bad:
        raise SelfBackupError(f"Cadangan {folder} rusak: {bad}; tidak dipulihkan.")
    stamp = now.strftime(STAMP)
    kept: list[str] = []
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    if settings.sqlite_file() is not None:
        live = _sqlite_file(settings)
        fresh = live.with_name(f".{live.name}.memulihkan")
        _copy_sqlite(folder / SQLITE_COPY, fresh)
        for suffix in ("", "-wal", "-shm"):
            old = Path(f"{live}{suffix}")
            if old.exists():
                aside = Path(f"{live}.sebelum-{stamp}{suffix}")
                old.rename(aside)
                if not suffix:
                    kept.append(f"basis data lama: {aside}")
        fresh.rename(live)
    else:
        kept.append(_pg_replace(settings, folder / PG_COPY, stamp))
    for name in (KEY_FILE, *FOLDERS):
        if (data / name).exists():
            aside = data / f"{name}.sebelum-{stamp}"
            (data / name).rename(aside)
            kept.append(f"{name} lama: {aside}")
    if (folder / KEY_FILE).is_file():
        shutil.copy2(folder / KEY_FILE, data / KEY_FILE)
    _unpack(folder / DOCUMENTS, data)
    return _live_counts(settings), kept


def _unpack(archive_path: Path, into: Path) -> None:
    """Only folders and plain files, only below `into` (a backup folder is a file like any
    other, and someone may have put a different archive there)."""
    with tarfile.open(archive_path, "r:gz") as archive:
        for member in archive.getmembers():
            target = (into / member.name).resolve()
            if not target.is_relative_to(into.resolve()) or \
                    not (member.isfile() or member.isdir()):
                raise SelfBackupError(f"{archive_path.name} berisi {member.name!r} yang "
                                      "tidak boleh dipulihkan.")
        for member in archive.getmembers():
            target = into / member.name
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True, mode=0o700)
                continue
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            source = archive.extractfile(member)
            assert source is not None
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out)


def check_sums(folder: Path) -> str | None:
    """None when every file listed in SHA256SUMS is there with its digest; else the first
    problem."""
    try:
        lines = (folder / SUMS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return f"{SUMS} tidak ada"
    for line in lines:
        digest, _, name = line.partition("  ")
        path = folder / name
        if "/" in name or not path.is_file():
            return f"{name} tidak ada"
        if _sha256(path) != digest:
            return f"{name} tidak cocok dengan {SUMS}"
    return None


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.sqlite_file() is not None else "postgresql"


def _sqlite_file(settings: Settings) -> Path:
    path = settings.sqlite_file()
    assert path is not None
    return path


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy while others write (SQLite's online backup API)."""
    if not source.is_file():
        raise SelfBackupError(f"Basis data {source} tidak ada.")
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_sums(folder: Path) -> None:
    lines = [f"{_sha256(p)}  {p.name}" for p in sorted(folder.iterdir())
             if p.is_file() and p.name != SUMS]
    (folder / SUMS).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _prune(root: Path, before: datetime, keep: Path) -> tuple[str, ...]:
    gone = []
    for old in backups(root):
        made = datetime.strptime(old.name[len(PREFIX):], STAMP).replace(tzinfo=before.tzinfo)
        if old != keep and made < before:
            shutil.rmtree(old)
            gone.append(old.name)
    return tuple(gone)


def _pg_env(url: str, database: str | None = None) -> dict[str, str]:
    """libpq's environment for the URL: the password never appears on a command line."""
    parsed = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for name, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port),
                        ("PGUSER", parsed.username), ("PGPASSWORD", parsed.password),
                        ("PGDATABASE", database or parsed.database)):
        if value is not None:
            env[name] = str(value)
    socket_folder = parsed.query.get("host")  # e.g. host=/run/postgresql
    if isinstance(socket_folder, str):
        env["PGHOST"] = socket_folder
    return env


def _pg(command: list[str], url: str, database: str | None = None) -> str:
    try:
        done = subprocess.run(command, env=_pg_env(url, database), capture_output=True,
                              text=True, timeout=DUMP_TIMEOUT, check=False)
    except FileNotFoundError:
        raise SelfBackupError(f"{command[0]} tidak ada di mesin ini; pasang: apt-get install "
                              "postgresql-client") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(tanpa keterangan)"])[-1]
        raise SelfBackupError(f"{command[0]} gagal: {last}")
    return done.stdout


@contextmanager
def _scratch_database(settings: Settings, dump: Path, name: str) -> Iterator[str]:
    """The dump restored into a database of its own (dropped afterwards); its URL."""
    url = make_url(settings.database_url)
    _pg(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"'],
        settings.database_url, "postgres")
    try:
        _pg(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
             f"--dbname={name}", str(dump)], settings.database_url, name)
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _pg(["psql", "-q", "-c", f'DROP DATABASE IF EXISTS "{name}"'],
            settings.database_url, "postgres")


def _counts_and_chain(url: str, key: Path) -> tuple[Counts, str | None]:
    engine = make_engine(url)
    try:
        if current_revision(engine) is None:
            raise SelfBackupError("Salinan basis data kosong (tanpa skema).")
        sessions = make_session_factory(engine, {"audit_key": KeySource(key)})
        with sessions() as session:
            counts = Counts(*(session.execute(select(func.count()).select_from(table))
                              .scalar_one() for table in (Request, AuditEvent, LetterNumber)))
            report = verify_chain(session)
        return counts, None if report.ok else report.problem
    finally:
        engine.dispose()


def _verify(folder: Path, settings: Settings) -> tuple[Counts, str]:
    """Open the copy and walk its activity record; a copy that fails is no backup."""
    key = folder / KEY_FILE
    if (folder / SQLITE_COPY).is_file():
        with closing(sqlite3.connect(f"file:{folder / SQLITE_COPY}?mode=ro", uri=True)) as check:
            ok = check.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise SelfBackupError(f"Salinan basis data rusak: {ok}")
        counts, problem = _counts_and_chain(f"sqlite:///{folder / SQLITE_COPY}", key)
    else:
        name = f"pulih_periksa_{folder.name[-15:].replace('-', '_')}"
        with _scratch_database(settings, folder / PG_COPY, name) as url:
            counts, problem = _counts_and_chain(url, key)
    if problem is not None:
        raise SelfBackupError(f"Catatan kegiatan di salinan tidak utuh: {problem}")
    return counts, f"salinan dibuka, catatan kegiatan utuh ({counts.events} kejadian)"


def _pg_replace(settings: Settings, dump: Path, stamp: str) -> str:
    """Rename the live PostgreSQL database aside and restore the dump under its name."""
    url = make_url(settings.database_url)
    live = url.database
    if not live:
        raise SelfBackupError("PULIH_DATABASE_URL tanpa nama basis data.")
    aside = f"{live}_sebelum_{stamp.replace('-', '_')}"
    _pg(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-c",
         f'ALTER DATABASE "{live}" RENAME TO "{aside}"', "-c", f'CREATE DATABASE "{live}"'],
        settings.database_url, "postgres")
    _pg(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
         f"--dbname={live}", str(dump)], settings.database_url, live)
    return f"basis data lama: {aside} (PostgreSQL)"


def _live_counts(settings: Settings) -> Counts:
    counts, problem = _counts_and_chain(settings.database_url, settings.data_dir / KEY_FILE)
    if problem is not None:
        raise SelfBackupError(f"Catatan kegiatan setelah pemulihan tidak utuh: {problem}")
    return counts


def daily_self_backup(c: Container) -> bool:
    """The day's backup, once a day however often asked, its result queued for the team
    group (a failure too, with its reason); True when one was attempted now."""
    now, settings = c.clock(), c.settings
    if not due(settings, now):
        return False
    try:
        result: BackupResult | None = self_backup(settings, now)
        failure = None
    except (SelfBackupError, OSError, sqlite3.Error) as exc:
        log.error("cadangan Pulih gagal: %s", exc)
        result, failure = None, str(exc)
    text = render_text("chat/self_backup.txt.j2", settings.timezone, result=result,
                       failure=failure, now=now)
    with c.unit_of_work() as session:
        enqueue(session, key=f"self-backup:{now.strftime(STAMP)}",
                chat_id=c.office.team_chat_id, kind="self_backup", text=text, now=now)
    return True
