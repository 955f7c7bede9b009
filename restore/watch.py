"""The morning look at a system's backups (issue 20): cheap by default (the folder listing,
the sidecars' first MiB), with the full step-4 check on the days a system's turn comes.
Nothing here writes anywhere; what was found is returned for the caller to keep."""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from letters.timefmt import durasi, ukuran
from restore.catalog import CHECKSUMS, MANIFEST, BackupSource, RestorePoint, list_points
from restore.check import CheckReport, Verdict, check_point, parse_sums
from restore.errors import Cancelled, ConnectionLost, RestoreError
from restore.ssh import Remote

SIDECAR_LIMIT = 1 << 20  # a sidecar bigger than this is not a sane one, and is not read on
TREND_POINTS = 5  # the newest point is weighed against the median of this many before it


class Kind:
    """What can be wrong with a system's backups; the order is the order of urgency."""

    MISSING = "hilang"
    CORRUPT = "rusak"
    STALE = "basi"
    SHRUNK = "menyusut"
    NO_SUMS = "tanpa_checksum"
    MANIFEST = "manifest"
    UNREACHABLE = "tak_terjangkau"

    ORDER = (UNREACHABLE, MISSING, CORRUPT, STALE, SHRUNK, NO_SUMS, MANIFEST)


@dataclass(frozen=True)
class Finding:
    kind: str
    point: str  # the point it concerns ("" when there is none)
    detail: str

    @property
    def key(self) -> str:
        """The same problem of the same point has the same key from one morning to the
        next: the team is alerted once, when it first appears."""
        return f"{self.kind}:{self.point}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "point": self.point, "detail": self.detail}


@dataclass(frozen=True)
class Expectation:
    """What a system's backups should look like."""

    every: timedelta  # a new point this often
    grace: timedelta  # how late the newest may be before it counts as stale
    shrink: float  # the newest smaller than (1 - shrink) x the median before it: shrunk


@dataclass
class Look:
    """What one system's look found."""

    newest: RestorePoint | None = None
    findings: list[Finding] = field(default_factory=list)
    round_trips: int = 0
    full: CheckReport | None = None  # the full check, on the days it ran

    def add(self, kind: str, point: str, detail: str) -> None:
        self.findings.append(Finding(kind, point, detail))


def glance(remote: Remote, source: BackupSource, expect: Expectation, now: datetime) -> Look:
    """The cheap look: the listing (one command), then SHA256SUMS and manifest.json of the
    newest point, each read up to 1 MiB (one command each, when present)."""
    look = Look()
    started = remote.commands
    _look(remote, source, expect, now, look)
    look.round_trips = remote.commands - started
    return look


def _look(remote: Remote, source: BackupSource, expect: Expectation, now: datetime,
          look: Look) -> None:
    try:
        points = list_points(remote, source)
    except (ConnectionLost, Cancelled):
        raise  # the server or the caller, not this system's folder
    except RestoreError as exc:
        look.add(Kind.MISSING, "", f"Folder backup tidak dapat dibaca: {exc.message}")
        return
    if not points:
        look.add(Kind.MISSING, "", "Tidak ada satu pun titik backup di foldernya.")
        return
    newest = look.newest = points[0]
    age = newest.age(now)
    if age > expect.every + expect.grace:
        look.add(Kind.STALE, newest.name,
                 f"Backup terbaru berumur {durasi(age)}; seharusnya ada backup baru tiap "
                 f"{durasi(expect.every)}.")
    _trend(look, newest, points[1:1 + TREND_POINTS], expect.shrink)
    for f in newest.files:
        if f.size == 0:
            look.add(Kind.CORRUPT, newest.name, f"Berkas {f.name} kosong (0 bita).")
    _sums(remote, newest, look)
    _manifest(remote, newest, look)


def _trend(look: Look, newest: RestorePoint, before: list[RestorePoint],
           shrink: float) -> None:
    if not before:
        return
    usual = statistics.median(p.size for p in before)
    if usual > 0 and newest.size < (1 - shrink) * usual:
        drop = 100 * (1 - newest.size / usual)
        look.add(Kind.SHRUNK, newest.name,
                 f"Backup terbaru {ukuran(newest.size)}, {drop:.0f}% lebih kecil dari biasanya "
                 f"(median {len(before)} titik sebelumnya: {ukuran(int(usual))}).")


def _read(remote: Remote, path: str) -> str | None:
    result = remote.run("head", "-c", str(SIDECAR_LIMIT + 1), "--", path, check=False)
    if result.status != 0 or len(result.stdout) > SIDECAR_LIMIT:
        return None
    return result.stdout.decode("utf-8", "replace")


def _sums(remote: Remote, point: RestorePoint, look: Look) -> None:
    names = [f.name for f in point.files]
    if CHECKSUMS not in point.sidecars:
        if all(f"{n}.sha256" in point.sidecars for n in names):
            return  # a flat folder's per-file sidecars (read whole by the full check)
        look.add(Kind.NO_SUMS, point.name,
                 f"Tidak ada {CHECKSUMS}: keutuhan backup tidak dapat dibuktikan.")
        return
    text = _read(remote, point.path_of(CHECKSUMS))
    listed = parse_sums(text) if text is not None else {}
    missing = [n for n in names if n not in listed]
    if text is None:
        look.add(Kind.NO_SUMS, point.name, f"{CHECKSUMS} tidak dapat dibaca atau terlalu besar.")
    elif missing:
        look.add(Kind.NO_SUMS, point.name,
                 f"{CHECKSUMS} tidak memuat {', '.join(missing)}: keutuhannya tidak dapat "
                 "dibuktikan.")


def _manifest(remote: Remote, point: RestorePoint, look: Look) -> None:
    if MANIFEST not in point.sidecars:
        return
    text = _read(remote, point.path_of(MANIFEST))
    problem = "tidak dapat dibaca atau terlalu besar" if text is None else manifest_problem(text)
    if problem:
        look.add(Kind.MANIFEST, point.name, f"{MANIFEST} tidak wajar: {problem}.")


def manifest_problem(text: str) -> str:
    """What is wrong with a manifest's text ("" when it is sane): a JSON object whose
    `tables` maps names to row counts and whose `tree_sha256`, if any, is a SHA-256."""
    try:
        data = json.loads(text)
    except ValueError:
        return "bukan JSON"
    if not isinstance(data, dict):
        return "bukan objek JSON"
    tables = data.get("tables", {})
    if not isinstance(tables, dict):
        return "'tables' bukan daftar tabel"
    odd = [k for k, v in tables.items()
           if isinstance(v, bool) or not isinstance(v, int) or v < 0]
    if odd:
        return f"jumlah baris tabel {odd[0][:64]!r} bukan bilangan bulat >= 0"
    tree = data.get("tree_sha256")
    if tree is not None and not (isinstance(tree, str) and re.fullmatch(r"[0-9a-f]{64}", tree)):
        return "'tree_sha256' bukan SHA-256"
    return ""


def full_check(remote: Remote, point: RestorePoint, recipe: str, now: datetime,
               look: Look) -> None:
    """Step 4's whole check of the newest point (checksums, format, contents, manifest):
    each failed item is a finding of a corrupt point. Its warnings repeat what the cheap
    look already says (age, no checksum) and are left to it."""
    started = remote.commands
    report = check_point(remote, point, recipe, now)
    look.round_trips += remote.commands - started
    look.full = report
    for item in report.items:
        if item.verdict is Verdict.FAILED:
            look.add(Kind.CORRUPT, point.name, f"{item.name}: {item.detail}")

