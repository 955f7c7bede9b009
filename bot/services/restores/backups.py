"""Step 4 as a use case: find a system's restore points, check one, record the result."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import BackupCheck, BackupServer, System
from bot.services.audit.chain import append_event
from bot.workflow.refusals import NotFound
from restore.catalog import BackupSource, RestorePoint, list_points, select_point
from restore.check import CheckReport, check_point
from restore.errors import BackupInvalid
from restore.pull import Pull
from restore.ssh import Endpoint
from restore.ssh import session as ssh_session


@dataclass(frozen=True)
class SystemAccess:
    """Everything the engine needs about one system, detached from the database."""

    code: str
    name: str
    recipe: str
    target: Endpoint
    backup: Endpoint
    source: BackupSource
    system_id: int
    max_rate: int = 0  # bytes per second a backup file may move at (0: no limit)
    pull: Pull | None = None  # the target fetches its backups itself


def system_access(session: Session, code: str, zone: ZoneInfo) -> SystemAccess:
    """The system's endpoints and backup source, or NotFound."""
    system = session.execute(
        select(System).where(System.code == code, System.active.is_(True))
    ).scalar_one_or_none()
    if system is None or system.backup_server_id is None:
        raise NotFound(f"Sistem {code!r} tidak terdaftar di inventaris.")
    server = session.get(BackupServer, system.backup_server_id)
    assert server is not None
    target = Endpoint(system.code, system.host, system.port, system.ssh_user,
                      Path(system.key_path), Path(system.known_hosts_path), system.use_sudo)
    backup = Endpoint(server.name, server.host, server.port, server.ssh_user,
                      Path(server.key_path), Path(server.known_hosts_path), server.use_sudo)
    source = BackupSource(server.root, system.backup_path or system.code, server.layout,
                          server.pattern, zone)
    limits = [rate for rate in (system.max_rate, server.max_rate) if rate]
    pull = None
    if system.pull_key and system.pull_known_hosts:
        pull = Pull(system.pull_host or server.host, server.port,
                    system.pull_user or server.ssh_user, system.pull_key,
                    system.pull_known_hosts)
    return SystemAccess(system.code, system.name, system.recipe, target, backup, source,
                        system.id, min(limits, default=0), pull)


def list_backups(access: SystemAccess) -> list[RestorePoint]:
    """Restore points, newest first (blocking: SSH to the backup server)."""
    with ssh_session(access.backup) as remote:
        return list_points(remote, access.source)


def run_check(access: SystemAccess, point_name: str | int, now: datetime,
              requested: datetime | None = None,
              on_phase: Callable[[str], None] | None = None) -> CheckReport:
    """Check one point on the backup server (blocking); a point is named by its name or
    by when it was taken (seconds since the epoch, as a chat button carries it)."""
    with ssh_session(access.backup) as remote:
        points = list_points(remote, access.source)
        if isinstance(point_name, int):
            point = _taken_at(points, point_name, remote.endpoint.label)
        else:
            point = select_point(points, point_name, remote.endpoint.label)
        newest = points[0].name == point.name
        return check_point(remote, point, access.recipe, now, requested=requested,
                           newest=newest, on_phase=on_phase)


def _taken_at(points: list[RestorePoint], epoch: int, where: str) -> RestorePoint:
    for point in points:
        if int(point.taken_at.timestamp()) == epoch:
            return point
    raise BackupInvalid(f"Titik backup itu tidak ada lagi di {where}; minta daftar terbaru.")


def record_check(session: Session, access: SystemAccess, report: CheckReport, *,
                 started_at: datetime, now: datetime, actor_id: int | None, actor_name: str,
                 actor_role: str, request_id: int | None = None) -> BackupCheck:
    """Store the check and append it to the activity record."""
    row = BackupCheck(request_id=request_id, system_id=access.system_id, point=report.point,
                      point_time=report.taken_at, checked_by=actor_id, started_at=started_at,
                      finished_at=now, status=report.verdict.value,
                      result=json.dumps(report.as_dict(), ensure_ascii=False))
    session.add(row)
    session.flush()
    append_event(session, action="backup_check", now=now, actor_id=actor_id,
                 actor_name=actor_name, actor_role=actor_role, request_id=request_id,
                 data={"system": access.code, "point": report.point,
                       "verdict": report.verdict.value, "check_id": row.id,
                       "sha256": report.digests})
    return row
