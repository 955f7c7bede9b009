"""The records Pulih keeps. The database is the truth; jobs and chats only read it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Agency(Base):
    """An OPD (or the office itself), with the lines of its letterhead address."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")  # one line per address line
    is_office: Mapped[bool] = mapped_column(Boolean, default=False)


class Person(Base):
    """Someone in the inventory; `telegram_id` binds them to one Telegram account."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    nip: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    jabatan: Mapped[str] = mapped_column(String(200), default="")
    pangkat: Mapped[str] = mapped_column(String(100), default="")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Deactivated by an admin (`pulih people deactivate`, /orang): a sync keeps them so.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_by: Mapped[str | None] = mapped_column(String(200))
    # An account an admin unlinked (a lost phone): a sync does not bind it again.
    revoked_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    # The second channel: notices not delivered or not acted on in Telegram in time, and
    # every notice for someone without Telegram, also go here (from the inventory).
    email: Mapped[str | None] = mapped_column(String(254))

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    agency: Mapped[Agency | None] = relationship()


class LinkCode(Base):
    """A one-time code that binds a person of the inventory to their Telegram account.

    Only the code's SHA-256 is kept; the code itself is shown once to the admin."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(BigInteger)


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("person_id", "role", name="uq_role_assignments_person_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    role: Mapped[str] = mapped_column(String(16))

    person: Mapped[Person] = relationship(back_populates="roles")


class Delegation(Base):
    """An acting appointment (Plt./Plh.) of `delegate` for `principal`'s role, by date."""

    __tablename__ = "delegations"
    __table_args__ = (
        UniqueConstraint("delegate_id", "principal_id", "role", "starts_on",
                         name="uq_delegations_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    principal_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class BackupServer(Base):
    __tablename__ = "backup_servers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=22)
    ssh_user: Mapped[str] = mapped_column(String(64))
    key_path: Mapped[str] = mapped_column(Text)
    known_hosts_path: Mapped[str] = mapped_column(Text)
    root: Mapped[str] = mapped_column(Text)
    use_sudo: Mapped[bool] = mapped_column(Boolean, default=False)
    layout: Mapped[str] = mapped_column(String(16), default="points")
    pattern: Mapped[str] = mapped_column(Text, default="")
    # Bytes per second a backup file may leave this server at (None: no limit).
    max_rate: Mapped[int | None] = mapped_column(BigInteger)
    max_restores: Mapped[int] = mapped_column(Integer, default=2)  # reading from it at once
    zone: Mapped[str | None] = mapped_column(String(32))  # its data centre


class System(Base):
    """A target VPS/VM of an agency and how it is restored."""

    __tablename__ = "systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    recipe: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=22)
    ssh_user: Mapped[str] = mapped_column(String(64))
    key_path: Mapped[str] = mapped_column(Text)
    known_hosts_path: Mapped[str] = mapped_column(Text)
    use_sudo: Mapped[bool] = mapped_column(Boolean, default=False)
    database: Mapped[str | None] = mapped_column(String(64))
    # How the recipe reaches the database server on the target (secrets stay in the
    # defaults file on the target, never here).
    db_host: Mapped[str | None] = mapped_column(Text)
    db_port: Mapped[int | None] = mapped_column(Integer)
    db_user: Mapped[str | None] = mapped_column(String(64))
    db_defaults_file: Mapped[str | None] = mapped_column(Text)
    # PostgreSQL: the role a dump is imported as (owner of nothing but the shadow's
    # contents); None: imported as db_user.
    db_import_user: Mapped[str | None] = mapped_column(String(64))
    staging_dir: Mapped[str | None] = mapped_column(Text)  # None: restore.engine.STAGING_ROOT
    # Bytes per second a backup file may reach this system at (None: no limit).
    max_rate: Mapped[int | None] = mapped_column(BigInteger)
    # The target fetches its backups itself with this key and known_hosts (paths on the
    # target), from pull_host as pull_user (None: the backup server's); None: it does not.
    pull_key: Mapped[str | None] = mapped_column(Text)
    pull_known_hosts: Mapped[str | None] = mapped_column(Text)
    pull_host: Mapped[str | None] = mapped_column(Text)
    pull_user: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=5)  # 1 first .. 9 last
    zone: Mapped[str | None] = mapped_column(String(32))  # its data centre
    # The unprivileged system user on the target that reads archives and dumps
    # (tar, pg_restore, psql); None: the SSH user.
    run_as: Mapped[str | None] = mapped_column(String(32))
    app_dir: Mapped[str | None] = mapped_column(Text)
    health_url: Mapped[str | None] = mapped_column(Text)
    backup_server_id: Mapped[int | None] = mapped_column(ForeignKey("backup_servers.id"))
    backup_path: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A new restore point is expected this often (the backup watch's measure of stale).
    backup_every_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    # Its backups are restored as a drill this often (None: only when the team asks).
    drill_every_days: Mapped[int | None] = mapped_column(Integer)
    # A critical system: its restore steps (4 and 5) count in clock time, 24/7, even where
    # the office counts them in working time.
    restore_24_7: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    agency: Mapped[Agency] = relationship()


class Request(Base):
    """One restore request and where it stands in the SOP."""

    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(32), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    scope: Mapped[str] = mapped_column(String(16))
    recovery_point: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    letter_number: Mapped[str | None] = mapped_column(String(100))
    letter_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(24), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    kabid_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    executor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    report_author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Opened on the agency's behalf for a declared incident (None: filed by the agency).
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    # Taken out of its incident's shared cards: decided on its own cards, as any request.
    apart: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    agency: Mapped[Agency] = relationship()
    system: Mapped[System] = relationship()
    requester: Mapped[Person] = relationship(foreign_keys=[requester_id])


class Incident(Base):
    """A data-centre incident declared by an admin or the Kepala Dinas: the systems it hit
    each have a request (`Request.incident_id`), handled together on shared cards."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # The summary PDF issued on closing (documents.id; no foreign key: documents already
    # point at requests, which point here).
    summary_id: Mapped[int | None] = mapped_column(Integer)


class IncidentMessage(Base):
    """A live message the bot keeps for an incident (the team's board, an official's
    card): sent once through the outbox (keyed by `key` and `generation`), then edited in
    place; `shown` is what it last said, so an unchanged one is not edited again."""

    __tablename__ = "incident_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    shown: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Sent again (under a new outbox key) after someone deleted it in Telegram.
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditEvent(Base):
    """One entry of the append-only, hash-chained activity record (Dokumentasi Kegiatan)."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(16))
    acting: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(24), default="")
    to_state: Mapped[str] = mapped_column(String(24), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    documents: Mapped[str] = mapped_column(Text, default="[]")  # canonical JSON
    data: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The last event's sequence and hash, so that a truncated tail is noticed."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Deadline(Base):
    """The Mutu Baku clock of the step a request is waiting on."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_open_due", "closed_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # "kerja": the Mutu Baku counts in the office's working time; "jam": in clock time.
    clock: Mapped[str] = mapped_column(String(8), default="jam", server_default="jam")


class BackupCheck(Base):
    """Step 4: the result of checking one restore point on the backup server."""

    __tablename__ = "backup_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    point: Mapped[str] = mapped_column(String(255))
    point_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # passed | warning | failed
    result: Mapped[str] = mapped_column(Text, default="{}")  # JSON


class OfficeSetting(Base):
    """An office setting from the inventory that the core needs where it has only the
    database (the working-time calendar), as JSON under its key."""

    __tablename__ = "office_settings"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class WatchRun(Base):
    """One look at every system's backups: the morning's (`jadwal`), or one asked for."""

    __tablename__ = "watch_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # jadwal | cli | grup
    day: Mapped[date] = mapped_column(Date, index=True)  # the office's local date
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")  # JSON


class BackupWatch(Base):
    """What one watch run found of one system's backups: its history, and the state the
    next run compares with (a problem is alerted when it first appears)."""

    __tablename__ = "backup_watch"
    __table_args__ = (Index("ix_backup_watch_system_checked", "system_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("watch_runs.id"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    point: Mapped[str | None] = mapped_column(String(255))  # the newest point seen
    point_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    size: Mapped[int | None] = mapped_column(BigInteger)
    full: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16))  # baik | masalah
    findings: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")  # JSON
    alerted: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")  # keys
    seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    round_trips: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RestoreRun(Base):
    """Step 5: one restore of a system, phase by phase, with what it kept for rollback."""

    __tablename__ = "restore_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    backup_check_id: Mapped[int | None] = mapped_column(ForeignKey("backup_checks.id"))
    started_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # Holds the system id while the run is active: the unique constraint allows one
    # active run per system (NULLs do not collide on SQLite or PostgreSQL).
    lock_key: Mapped[int | None] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(16))
    phase: Mapped[str] = mapped_column(String(32), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    phases: Mapped[str] = mapped_column(Text, default="[]")  # JSON
    verification: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    rollback_ref: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    # Names what the run leaves outside Pulih's database (staging folder, shadow, kept
    # copies) together with its number: unique across installations. None: a run
    # recorded before, named by its number alone.
    uid: Mapped[str | None] = mapped_column(String(32))
    # Where the chat shows the run's progress (JSON {"chat": id, "message": id}): after a
    # crash, that message's buttons (Batal) are taken away.
    message_ref: Mapped[str | None] = mapped_column(Text)
    # The restore queue's partition it waits and runs in (bot.durable.partitions).
    queue_slot: Mapped[str | None] = mapped_column(String(80))
    # The worker carrying it out (restore_workers.executor), how far it is (JSON, written
    # by that worker every second or so) and who asked it to stop: shared through the
    # database, since the bot and the worker may be on different hosts.
    worker: Mapped[str | None] = mapped_column(String(120))
    progress: Mapped[str | None] = mapped_column(Text)
    cancel_by: Mapped[str | None] = mapped_column(String(200))
    # "restore", or "uji": a drill, restored into a shadow that is verified and dropped.
    kind: Mapped[str] = mapped_column(String(8), default="restore", server_default="restore")


class RestoreWorker(Base):
    """A process that carries out queued restores, as it last said it was alive. Times
    are seconds since the epoch on the worker's own host (NTP keeps hosts within far less
    than the time after which a silent worker counts as gone)."""

    __tablename__ = "restore_workers"

    executor: Mapped[str] = mapped_column(String(120), primary_key=True)
    zone: Mapped[str | None] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started: Mapped[float] = mapped_column(Float)
    seen: Mapped[float] = mapped_column(Float)


class Document(Base):
    """An issued document: its kind, number, bytes' SHA-256 and where the file lies."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    file_path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="issued")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the public verification page shows beside kind, number and date: the office
    # (or agency) the document speaks for, and who signs it (None: not recorded).
    issuer: Mapped[str | None] = mapped_column(String(200))
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_position: Mapped[str | None] = mapped_column(String(300))


class LetterNumber(Base):
    """The numbering register (agenda): a number once allocated is never reused."""

    __tablename__ = "letter_numbers"
    __table_args__ = (UniqueConstraint("unit", "year", "seq", name="uq_letter_numbers_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(100), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    status: Mapped[str] = mapped_column(String(16), default="issued")  # issued | cancelled
    allocated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class OutboxMessage(Base):
    """A notification to deliver; kept until sent so a restart resends, never duplicates."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # "telegram" (to chat_id) or "email" (to address; chat_id 0).
    channel: Mapped[str] = mapped_column(String(8), default="telegram",
                                         server_default="telegram")
    address: Mapped[str | None] = mapped_column(String(254))


class DocumentJob(Base):
    """A document that a decision calls for, made after the decision commits by a job.

    Written in the decision's transaction: a crash before the document is made loses
    nothing (the job runs after the restart), and the document, its deliveries and the
    job's `done` are committed together, so it is never made twice."""

    __tablename__ = "document_jobs"
    __table_args__ = (Index("ix_document_jobs_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    kind: Mapped[str] = mapped_column(String(32))
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    recipients: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{chat_id, caption}]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    file_path: Mapped[str] = mapped_column(Text, default="")
    # An uploaded letter kept on disk until the job records it as the document.
    source_path: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str] = mapped_column(Text, default="")


class Conversation(Base):
    """What a person is in the middle of in one chat (the /mohon form, a reason or a
    system name to type): kept here, not in memory, so a restart loses none of it."""

    __tablename__ = "conversations"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboxUpdate(Base):
    """An update Telegram handed over, written before Telegram is told it arrived: one a
    crash interrupted is answered (or handled) after the restart, and one Telegram sends
    again is not handled twice."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_state", "state", "received_at"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))  # "callback", "message", "other"
    payload: Mapped[str] = mapped_column(Text, default="{}")  # the update as JSON
    state: Mapped[str] = mapped_column(String(8), default="new")  # new, done
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
