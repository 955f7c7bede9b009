"""Helpers for restore tests: a journal that remembers, and jobs built from a checked point."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.demo.lab.sshd import SshServer
from restore.catalog import BackupSource, find_point
from restore.check import check_point
from restore.engine import Phase, RestoreJob
from restore.recipes import TargetSpec
from restore.ssh import session

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@dataclass
class MemoryJournal:
    entries: list[tuple[str, str, str]] = field(default_factory=list)

    def phase(self, phase: Phase, status: str, detail: str = "") -> None:
        self.entries.append((phase.value, status, detail))

    def statuses(self) -> list[str]:
        return [f"{p}:{s}" for p, s, _ in self.entries]


def checked_job(run_id: int, backup: SshServer, target: SshServer, root: Path, system: str,
                point: str, spec: TargetSpec, staging: Path, **kw: Any) -> RestoreJob:
    """A job for `point`, with the digests and manifest that the step-4 check produced."""
    source = BackupSource(str(root), system)
    with session(backup.endpoint()) as remote:
        found = find_point(remote, source, point)
        report = check_point(remote, found, spec.recipe, NOW)
    return RestoreJob(run_id, target.endpoint(), backup.endpoint(), spec, found,
                      report.digests, report.manifest, kw.pop("journal", MemoryJournal()),
                      staging_root=str(staging), **kw)


def unchecked_job(run_id: int, backup: SshServer, target: SshServer, root: Path, system: str,
                  point: str, spec: TargetSpec, staging: Path, **kw: Any) -> RestoreJob:
    """A job for `point` with the digests of its files as written, without running the
    step-4 check (for corpora whose refusal at the check is tested on its own)."""
    source = BackupSource(str(root), system)
    with session(backup.endpoint()) as remote:
        found = find_point(remote, source, point)
    digests = {f.name: hashlib.sha256((root / system / point / f.name).read_bytes()
                                      ).hexdigest() for f in found.files}
    return RestoreJob(run_id, target.endpoint(), backup.endpoint(), spec, found, digests, {},
                      kw.pop("journal", MemoryJournal()), staging_root=str(staging), **kw)


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` by relative path, with its SHA-256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
