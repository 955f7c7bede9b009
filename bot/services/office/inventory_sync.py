"""Bring the database in line with the inventory file: people, roles, systems, servers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.models import (
    Agency,
    AuditEvent,
    BackupServer,
    Delegation,
    Person,
    RoleAssignment,
    System,
)
from bot.inventory.model import Inventory
from bot.services.audit.chain import append_event
from bot.services.office.calendar import store_calendar


@dataclass(frozen=True)
class SyncResult:
    changed: bool
    agencies: int
    people: int
    systems: int


def _inventory_digest(inventory: Inventory) -> str:
    return hashlib.sha256(inventory.path.read_bytes()).hexdigest()


def sync_inventory(session: Session, inventory: Inventory, now: datetime) -> SyncResult:
    """Upsert everything the inventory names; whoever it no longer names is deactivated.

    A Telegram id bound by linking is kept while the inventory gives none.
    """
    digest = _inventory_digest(inventory)
    last = session.execute(
        select(AuditEvent).where(AuditEvent.action == "inventory_sync")
        .order_by(AuditEvent.seq.desc())
    ).scalars().first()
    agencies = _sync_agencies(session, inventory)
    people = _sync_people(session, inventory, agencies)
    _sync_delegations(session, inventory, people)
    servers = _sync_servers(session, inventory)
    systems = _sync_systems(session, inventory, agencies, servers)
    store_calendar(session, inventory.office_hours)
    session.flush()
    changed = last is None or json.loads(last.data).get("sha256") != digest
    if changed:
        append_event(session, action="inventory_sync", now=now,
                     data={"file": inventory.path.name, "sha256": digest,
                           "agencies": len(agencies), "people": len(inventory.people),
                           "systems": len(inventory.systems)})
    return SyncResult(changed, len(agencies), len(inventory.people), len(systems))


def _sync_agencies(session: Session, inv: Inventory) -> dict[str, int]:
    existing = {a.code: a for a in session.execute(select(Agency)).scalars()}
    ids: dict[str, int] = {}
    for entry in inv.all_agencies():
        row = existing.get(entry.code) or Agency(code=entry.code)
        row.name, row.address, row.is_office = entry.name, "\n".join(entry.address), \
            entry.is_office
        session.add(row)
        session.flush()
        ids[entry.code] = row.id
    return ids


def _sync_people(session: Session, inv: Inventory, agencies: dict[str, int]) -> dict[str, int]:
    existing = {p.nip: p for p in session.execute(select(Person)).scalars()}
    listed = {p.nip for p in inv.people}
    claimed = {p.telegram_id for p in inv.people if p.telegram_id}
    for person in existing.values():
        if person.nip not in listed:
            person.active = False
            person.telegram_id = None
        elif person.telegram_id in claimed:
            person.telegram_id = None  # the inventory binds this id, maybe to someone else
    session.flush()
    ids: dict[str, int] = {}
    for entry in inv.people:
        row = existing.get(entry.nip) or Person(nip=entry.nip)
        row.name, row.jabatan, row.pangkat = entry.name, entry.jabatan, entry.pangkat
        row.email = entry.email
        row.active = row.suspended_at is None  # an admin's deactivation stands
        row.agency_id = agencies.get(entry.agency) if entry.agency else None
        if entry.telegram_id and entry.telegram_id != row.revoked_telegram_id:
            row.telegram_id = entry.telegram_id
        session.add(row)
        session.flush()
        ids[entry.nip] = row.id
        wanted = {r.value for r in entry.roles}
        current = {ra.role: ra for ra in row.roles}
        for role, assignment in current.items():
            if role not in wanted:
                row.roles.remove(assignment)
        for role in wanted - current.keys():
            row.roles.append(RoleAssignment(role=role))
    for person in existing.values():
        if person.nip not in listed:
            person.roles.clear()
    return ids


def _sync_delegations(session: Session, inv: Inventory, people: dict[str, int]) -> None:
    session.execute(delete(Delegation))
    for entry in inv.acting:
        session.add(Delegation(delegate_id=people[entry.nip], principal_id=people[entry.for_nip],
                               role=entry.role.value, kind=entry.kind,
                               starts_on=entry.starts_on, ends_on=entry.ends_on))


def _sync_servers(session: Session, inv: Inventory) -> dict[str, int]:
    existing = {s.name: s for s in session.execute(select(BackupServer)).scalars()}
    ids: dict[str, int] = {}
    for entry in inv.backup_servers:
        row = existing.get(entry.name) or BackupServer(name=entry.name)
        row.host, row.port, row.ssh_user = entry.ssh.host, entry.ssh.port, entry.ssh.user
        row.key_path, row.known_hosts_path = str(entry.ssh.key), str(entry.ssh.known_hosts)
        row.root, row.layout, row.pattern = entry.root, entry.layout, entry.pattern
        row.use_sudo, row.max_rate = entry.ssh.sudo, entry.max_rate
        row.max_restores, row.zone = entry.max_restores, entry.zone
        session.add(row)
        session.flush()
        ids[entry.name] = row.id
    return ids


def _sync_systems(session: Session, inv: Inventory, agencies: dict[str, int],
                  servers: dict[str, int]) -> dict[str, int]:
    existing = {s.code: s for s in session.execute(select(System)).scalars()}
    listed = {s.code for s in inv.systems}
    for row in existing.values():
        if row.code not in listed:
            row.active = False
    ids: dict[str, int] = {}
    for entry in inv.systems:
        row = existing.get(entry.code) or System(code=entry.code)
        row.name, row.agency_id, row.recipe = entry.name, agencies[entry.agency], entry.recipe
        row.host, row.port, row.ssh_user = entry.ssh.host, entry.ssh.port, entry.ssh.user
        row.key_path, row.known_hosts_path = str(entry.ssh.key), str(entry.ssh.known_hosts)
        row.database, row.app_dir, row.health_url = entry.database, entry.app_dir, \
            entry.health_url
        row.db_host, row.db_port, row.db_user = entry.db_host, entry.db_port, entry.db_user
        row.db_defaults_file, row.use_sudo = entry.db_defaults_file, entry.ssh.sudo
        row.db_import_user, row.run_as = entry.db_import_user, entry.run_as
        row.staging_dir, row.max_rate = entry.staging_dir, entry.max_rate
        row.priority, row.zone = entry.priority, entry.zone
        row.backup_every_hours = entry.backup_every_hours
        row.drill_every_days = entry.drill_every_days
        row.restore_24_7 = entry.restore_24_7
        pull = entry.pull
        row.pull_key = pull.key if pull else None
        row.pull_known_hosts = pull.known_hosts if pull else None
        row.pull_host = pull.host if pull else None
        row.pull_user = pull.user if pull else None
        row.backup_server_id = servers.get(entry.backup_server)
        row.backup_path, row.active = entry.backup_path, True
        session.add(row)
        session.flush()
        ids[entry.code] = row.id
    return ids
