"""Restore points on the backup server, newest first.

Two layouts are read:
- `points`: `<root>/<system>/<YYYYmmdd-HHMM>/` holding the dump or archive, a
  `SHA256SUMS` file and optionally `manifest.json` (what a backup job writes);
- `flat`: `<root>/<system>/` holding timestamped files such as
  `simpeg_20261120-0200.sql.gz` (what cron-made mysqldump backups look like),
  matched by a configurable pattern with a named group `ts`, and a `SHA256SUMS`
  file in the same folder or a `<file>.sha256` beside each file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from restore.errors import BackupInvalid, UnsafeValue
from restore.safety import FILE_NAME_RE, POINT_RE, confined
from restore.ssh import Remote

CHECKSUMS = "SHA256SUMS"
MANIFEST = "manifest.json"
SIDECARS = (CHECKSUMS, MANIFEST)
DEFAULT_FLAT_PATTERN = r"^.*?(?P<ts>\d{8}[-_]?\d{4}(?:\d{2})?)\.[A-Za-z0-9.]+$"


@dataclass(frozen=True)
class BackupSource:
    """Where one system's backups live on the backup server."""

    root: str
    path: str
    layout: str = "points"
    pattern: str = ""
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Makassar"))

    @property
    def directory(self) -> str:
        return confined(self.root, self.path)


@dataclass(frozen=True)
class BackupFile:
    name: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class RestorePoint:
    """One restore point: its data files and the sidecars that vouch for them."""

    name: str
    taken_at: datetime
    directory: str
    files: tuple[BackupFile, ...]
    sidecars: tuple[str, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def age(self, now: datetime) -> timedelta:
        return now - self.taken_at

    def path_of(self, name: str) -> str:
        return confined(self.directory, name)


def _parse_stamp(text: str, zone: ZoneInfo) -> datetime | None:
    digits = re.sub(r"\D", "", text)
    for fmt in ("%Y%m%d%H%M%S", "%Y%m%d%H%M"):
        try:
            return datetime.strptime(digits, fmt).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            continue
    return None


def _listing(remote: Remote, directory: str) -> list[tuple[str, int, float]]:
    result = remote.run("find", directory, "-mindepth", "1", "-maxdepth", "2", "-type", "f",
                        "-printf", r"%P\0%s\0%T@\0", check=False)
    if result.status != 0:
        raise BackupInvalid(f"Folder backup {directory} tidak dapat dibaca di "
                            f"{remote.endpoint.label}: {result.error_text() or 'tidak ada'}")
    fields = result.stdout.split(b"\0")
    rows = []
    for i in range(0, len(fields) - 2, 3):
        rows.append((fields[i].decode("utf-8", "replace"), int(fields[i + 1]),
                     float(fields[i + 2])))
    return rows


def list_points(remote: Remote, source: BackupSource) -> list[RestorePoint]:
    """Every restore point of the system, newest first; odd names are skipped, never used."""
    directory = source.directory
    rows = _listing(remote, directory)
    if source.layout == "flat":
        return _flat_points(rows, source, directory)
    by_point: dict[str, list[tuple[str, int, float]]] = {}
    for relative, size, mtime in rows:
        point, sep, name = relative.partition("/")
        if sep and POINT_RE.match(point) and FILE_NAME_RE.match(name):
            by_point.setdefault(point, []).append((name, size, mtime))
    points = []
    for point, files in by_point.items():
        taken = _parse_stamp(point, source.zone)
        if taken is None or all(n in SIDECARS for n, _, _ in files):
            continue  # a point with nothing to restore is not offered
        points.append(RestorePoint(
            point, taken, confined(directory, point),
            tuple(sorted((BackupFile(n, s, datetime.fromtimestamp(m, UTC))
                          for n, s, m in files if n not in SIDECARS), key=lambda f: f.name)),
            tuple(sorted(n for n, _, _ in files if n in SIDECARS)),
        ))
    return sorted(points, key=lambda p: (p.taken_at, p.name), reverse=True)


def _flat_points(rows: list[tuple[str, int, float]], source: BackupSource,
                 directory: str) -> list[RestorePoint]:
    pattern = re.compile(source.pattern or DEFAULT_FLAT_PATTERN)
    names = {r[0] for r in rows if "/" not in r[0]}
    points = []
    for name, size, mtime in rows:
        if "/" in name or not FILE_NAME_RE.match(name) or name in SIDECARS or \
                name.endswith(".sha256"):
            continue
        match = pattern.match(name)
        if not match or "ts" not in match.groupdict():
            continue
        taken = _parse_stamp(match.group("ts"), source.zone)
        if taken is None:
            continue
        sidecars = tuple(s for s in (CHECKSUMS, f"{name}.sha256") if s in names)
        points.append(RestorePoint(name, taken, directory,
                                   (BackupFile(name, size, datetime.fromtimestamp(mtime, UTC)),),
                                   sidecars))
    return sorted(points, key=lambda p: (p.taken_at, p.name), reverse=True)


def select_point(points: list[RestorePoint], name: str, where: str) -> RestorePoint:
    """The named point among `points`, after checking the name is a safe one."""
    if not (POINT_RE.match(name) or FILE_NAME_RE.match(name)):
        raise UnsafeValue(f"Nama titik backup {name!r} tidak sah.")
    for point in points:
        if point.name == name:
            return point
    raise BackupInvalid(f"Titik backup {name} tidak ditemukan di {where}.")


def find_point(remote: Remote, source: BackupSource, name: str) -> RestorePoint:
    """The named point, after checking the name cannot leave the system's folder."""
    return select_point(list_points(remote, source), name, remote.endpoint.label)
