"""What the documents say, as plain data: a request's case file and what the register
gave the document being issued. Built from the database by `bot.services.documents.letters`, or
from the realistic examples in `letters.samples`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class Official:
    """A signer or actor: position (with a.n./Plt./Plh. lines when delegated), name,
    rank and NIP."""

    name: str
    jabatan: str
    pangkat: str = ""
    nip: str = ""
    on_behalf: tuple[str, ...] = ()  # e.g. ("a.n. Kepala Dinas Komunikasi dan Informatika",)


@dataclass(frozen=True)
class Party:
    """An agency as addressed in letters."""

    name: str
    address: tuple[str, ...] = ()
    city: str = "Tenggarong"
    code: str = ""

    @property
    def head(self) -> str:
        """Its head's position: 'Kepala Dinas Pendidikan', 'Kepala Badan ...'."""
        return f"Kepala {self.name}"


@dataclass(frozen=True)
class Hop:
    """One disposition of the chain (step 2 or 3, or a return)."""

    sender: str
    receiver: str
    instruction: str
    note: str
    at: datetime
    due: datetime | None
    paraf: str


@dataclass(frozen=True)
class BackupSource:
    point: str
    taken_at: datetime | None
    size: int
    sha256: str
    server: str
    checked_at: datetime | None
    status: str  # "lulus" / "lulus dengan peringatan" / "gagal"


@dataclass(frozen=True)
class Phase:
    name: str
    started: datetime | None
    finished: datetime | None
    result: str
    by: str


@dataclass(frozen=True)
class Check:
    name: str
    method: str
    result: str


@dataclass(frozen=True)
class Case:
    """Everything recorded about one request that a document may print."""

    ticket: str
    agency: Party
    system_name: str
    system_code: str
    host: str
    recipe: str
    database: str
    app_dir: str
    scope: str
    recovery_point: datetime | None
    reason: str
    impact: str
    contact: str
    requester: Official
    letter_number: str | None
    letter_date: date | None
    received_at: datetime
    hops: tuple[Hop, ...] = ()
    backup: BackupSource | None = None
    phases: tuple[Phase, ...] = ()
    checks: tuple[Check, ...] = ()
    status: str = ""  # Berhasil / Gagal / Dibatalkan / "" (not restored yet)
    restore_started: datetime | None = None
    restore_finished: datetime | None = None
    mutu_baku_restore: timedelta | None = None
    problems: str = ""
    executor: Official | None = None
    ratifier: Official | None = None
    report_number: str | None = None
    report_date: datetime | None = None
    reply_within: timedelta | None = None  # step 8's Mutu Baku: the agency's receipt


@dataclass(frozen=True)
class Issue:
    """What the register gives the document: its number, date, place and signer."""

    number: str | None
    issued_at: datetime
    place: str
    signer: Official


@dataclass(frozen=True)
class IncidentLine:
    """One system of an incident, as its summary prints it."""

    ticket: str
    system: str
    agency: str
    status: str
    opened: datetime
    restored: datetime | None  # the restore's end, when one succeeded
    restore_took: timedelta | None
    late_steps: tuple[int, ...]  # SOP steps that ran past their Mutu Baku
    problem: str = ""


@dataclass(frozen=True)
class IncidentSummary:
    """What the summary of a closed incident prints (for the Kepala Dinas)."""

    code: str
    title: str
    opened: datetime
    closed: datetime
    opened_by: str
    closed_by: str
    lines: tuple[IncidentLine, ...]
    restore_standard: timedelta  # step 5's Mutu Baku
    steps_standard: timedelta  # steps 2 to 7 together

    @property
    def restored(self) -> int:
        return sum(1 for line in self.lines if line.restored is not None)

    @property
    def failures(self) -> tuple[IncidentLine, ...]:
        return tuple(line for line in self.lines if line.restored is None)


@dataclass(frozen=True)
class DrillStep:
    """One phase of a restore drill, as its report prints it."""

    label: str
    took: timedelta | None
    status: str  # selesai | gagal | -


@dataclass(frozen=True)
class DrillReport:
    """What the report of a restore drill prints: the point restored into a shadow,
    checked and dropped, and what that proved (nothing of the live data was changed)."""

    run: int
    system: str
    agency: str
    recipe: str
    point: str
    point_taken: datetime | None
    size: int
    started: datetime
    finished: datetime
    started_by: str
    succeeded: bool
    result: str  # the run's own words
    steps: tuple[DrillStep, ...]
    checks: tuple[str, ...]  # the step-4 check of the point, one line per item
    verified: tuple[str, ...]  # what the shadow held: tables and rows, or files
    health: str  # whether the application could be tried against the drill copy


@dataclass(frozen=True)
class StepFigures:
    """One SOP step over a month: how long it took against its Mutu Baku."""

    number: int
    title: str
    standard: timedelta
    count: int  # times the step ended in the month
    median: timedelta | None
    p90: timedelta | None  # nearest rank
    within: int  # of `count`, how many within the Mutu Baku
    working_time: bool  # counted (at least once) in the office's working time

    @property
    def share(self) -> float | None:
        return self.within / self.count if self.count else None


@dataclass(frozen=True)
class AgencyFigures:
    agency: str
    filed: int
    outcomes: tuple[tuple[str, int], ...]  # (outcome label, requests), in a fixed order


@dataclass(frozen=True)
class Breach:
    ticket: str
    step: int
    took: timedelta
    standard: timedelta
    reason: str
    ended: datetime | None  # None: still running at the month's end


@dataclass(frozen=True)
class MonthlyFigures:
    """The month's service against the Mutu Baku, from the recorded events only."""

    month: date  # its first day
    start: datetime
    end: datetime
    filed: int
    outcome_labels: tuple[str, ...]
    agencies: tuple[AgencyFigures, ...]
    steps: tuple[StepFigures, ...]
    breaches: tuple[Breach, ...]
    weeks: tuple[tuple[str, int], ...]  # (days, requests filed)
    watch_runs: int
    watch_problems: tuple[tuple[str, int], ...]  # (kind label, systems)
    drills: tuple[tuple[str, str, str], ...]  # (system, outcome, when)
