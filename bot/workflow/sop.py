"""The SOP 'Restore VPS/VM Database dan Aplikasi Server' expressed as data.

States, the transitions between them, the role that may make each one, and the
service time (Mutu Baku) of every step, as in `shared/sop/SOP.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Role(StrEnum):
    """Roles a person holds, from the inventory (or an acting assignment)."""

    OPD = "opd"
    KADIS = "kadis"
    KABID = "kabid"
    TIM = "tim"
    ADMIN = "admin"
    AUDITOR = "auditor"


ROLE_LABELS: dict[Role, str] = {
    Role.OPD: "OPD/PSE",
    Role.KADIS: "Kepala Dinas",
    Role.KABID: "Kepala Bidang",
    Role.TIM: "JFT/Tim Teknis",
    Role.ADMIN: "Admin",
    Role.AUDITOR: "Auditor",
}

# Roles an acting official (Plt./Plh.) can stand in for.
ACTING_ROLES = frozenset({Role.KADIS, Role.KABID})


class State(StrEnum):
    """Where a request stands."""

    SUBMITTED = "submitted"
    DISPOSED_TO_KABID = "disposed_to_kabid"
    ASSIGNED_TO_TEAM = "assigned_to_team"
    BACKUP_CHECKED = "backup_checked"
    RESTORING = "restoring"
    RESTORED = "restored"
    VERIFIED = "verified"
    REPORT_SUBMITTED = "report_submitted"
    REPORT_RATIFIED = "report_ratified"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    RESTORE_FAILED = "restore_failed"
    REOPENED = "reopened"


STATE_LABELS: dict[State, str] = {
    State.SUBMITTED: "Diajukan, menunggu disposisi Kepala Dinas",
    State.DISPOSED_TO_KABID: "Didisposisikan ke Kepala Bidang",
    State.ASSIGNED_TO_TEAM: "Ditugaskan ke Tim Teknis",
    State.BACKUP_CHECKED: "Backup sudah diperiksa",
    State.RESTORING: "Restore sedang berjalan",
    State.RESTORED: "Restore selesai, menunggu pemeriksaan hasil",
    State.VERIFIED: "Hasil restore terverifikasi",
    State.REPORT_SUBMITTED: "Laporan diajukan, menunggu pengesahan",
    State.REPORT_RATIFIED: "Laporan disahkan",
    State.NOTIFIED: "Surat pemberitahuan terkirim",
    State.ACKNOWLEDGED: "Selesai, diterima OPD",
    State.REJECTED: "Ditolak",
    State.RETURNED: "Dikembalikan untuk perbaikan",
    State.CANCELLED: "Dibatalkan",
    State.RESTORE_FAILED: "Restore gagal",
    State.REOPENED: "Dibuka kembali oleh OPD",
}

TERMINAL_STATES = frozenset({State.ACKNOWLEDGED, State.REJECTED, State.CANCELLED})


class Action(StrEnum):
    """What a person (or the engine on their behalf) does to a request."""

    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    CANCEL = "cancel"
    DISPOSE = "dispose"
    REJECT = "reject"
    RETURN = "return"
    ASSIGN = "assign"
    CHECK_BACKUP = "check_backup"
    START_RESTORE = "start_restore"
    ABORT_RESTORE = "abort_restore"
    FINISH_RESTORE = "finish_restore"
    FAIL_RESTORE = "fail_restore"
    VERIFY = "verify"
    ROLLBACK = "rollback"
    SUBMIT_REPORT = "submit_report"
    RATIFY = "ratify"
    RETURN_REPORT = "return_report"
    NOTIFY = "notify"
    ACKNOWLEDGE = "acknowledge"
    REOPEN = "reopen"


ACTION_LABELS: dict[Action, str] = {
    Action.SUBMIT: "mengajukan permohonan",
    Action.RESUBMIT: "mengajukan ulang permohonan",
    Action.CANCEL: "membatalkan permohonan",
    Action.DISPOSE: "mendisposisikan ke Kepala Bidang",
    Action.REJECT: "menolak permohonan",
    Action.RETURN: "mengembalikan permohonan untuk perbaikan",
    Action.ASSIGN: "mendisposisikan ke Tim Teknis",
    Action.CHECK_BACKUP: "memeriksa file backup",
    Action.START_RESTORE: "memulai restore",
    Action.ABORT_RESTORE: "membatalkan restore",
    Action.FINISH_RESTORE: "menyelesaikan restore",
    Action.FAIL_RESTORE: "mencatat restore gagal",
    Action.VERIFY: "memverifikasi hasil restore",
    Action.ROLLBACK: "mengembalikan (rollback) data sebelum restore",
    Action.SUBMIT_REPORT: "mengajukan laporan restore",
    Action.RATIFY: "mengesahkan laporan restore",
    Action.RETURN_REPORT: "mengembalikan laporan restore",
    Action.NOTIFY: "mengirim surat pemberitahuan",
    Action.ACKNOWLEDGE: "mengonfirmasi penerimaan",
    Action.REOPEN: "menyatakan hasil belum sesuai",
}


@dataclass(frozen=True)
class Step:
    """One row of the SOP's procedure table with its Mutu Baku."""

    number: int
    title: str
    actor: Role
    service_time: timedelta
    output: str


STEPS: dict[int, Step] = {
    s.number: s
    for s in (
        Step(1, "Mengajukan surat permohonan restore", Role.OPD, timedelta(days=1),
             "Surat Permohonan"),
        Step(2, "Disposisi Kepala Dinas ke Kepala Bidang", Role.KADIS, timedelta(minutes=30),
             "Disposisi"),
        Step(3, "Disposisi Kepala Bidang ke JFT/Tim Teknis", Role.KABID,
             timedelta(minutes=10), "Disposisi"),
        Step(4, "Pengecekan file backup di server backup", Role.TIM, timedelta(minutes=30), ""),
        Step(5, "Restore backup ke VPS/VM dan pengecekan hasil", Role.TIM,
             timedelta(minutes=60), "Data hasil restore"),
        Step(6, "Laporan restore dan pengesahan Kepala Bidang", Role.TIM,
             timedelta(minutes=30), "Laporan Restore VPS/VM Database dan Aplikasi"),
        Step(7, "Surat pemberitahuan restore beserta laporan", Role.TIM,
             timedelta(minutes=15), "Surat Pemberitahuan"),
        Step(8, "Menerima surat pemberitahuan restore selesai", Role.OPD,
             timedelta(minutes=15), ""),
    )
}


@dataclass(frozen=True)
class Waiting:
    """Who a request in a state waits on, for which SOP step."""

    step: int
    role: Role


# The step whose clock runs while a request sits in each state. A state that
# belongs to the same step as the one before keeps that step's deadline.
WAITING: dict[State, Waiting] = {
    State.SUBMITTED: Waiting(2, Role.KADIS),
    State.DISPOSED_TO_KABID: Waiting(3, Role.KABID),
    State.ASSIGNED_TO_TEAM: Waiting(4, Role.TIM),
    State.REOPENED: Waiting(4, Role.TIM),
    State.BACKUP_CHECKED: Waiting(5, Role.TIM),
    State.RESTORING: Waiting(5, Role.TIM),
    State.RESTORED: Waiting(5, Role.TIM),
    State.RESTORE_FAILED: Waiting(5, Role.TIM),
    State.VERIFIED: Waiting(6, Role.TIM),
    State.REPORT_SUBMITTED: Waiting(6, Role.KABID),
    State.REPORT_RATIFIED: Waiting(7, Role.TIM),
    State.NOTIFIED: Waiting(8, Role.OPD),
    State.RETURNED: Waiting(1, Role.OPD),
}


@dataclass(frozen=True)
class Transition:
    """An action that moves a request from one of `sources` to `target`."""

    action: Action
    sources: frozenset[State]
    target: State
    role: Role
    needs_reason: bool = False
    # Officials act on the request they were dispositioned, not on any request.
    assigned_official_only: bool = False


def _t(
    action: Action,
    sources: tuple[State, ...],
    target: State,
    role: Role,
    *,
    needs_reason: bool = False,
    assigned: bool = False,
) -> Transition:
    return Transition(action, frozenset(sources), target, role, needs_reason, assigned)


_S = State
_AFTER_SWAP = (_S.RESTORED, _S.VERIFIED, _S.REPORT_SUBMITTED, _S.REPORT_RATIFIED, _S.NOTIFIED)

TRANSITIONS: tuple[Transition, ...] = (
    _t(Action.RESUBMIT, (_S.RETURNED,), _S.SUBMITTED, Role.OPD),
    _t(Action.CANCEL, (_S.SUBMITTED, _S.RETURNED, _S.DISPOSED_TO_KABID, _S.ASSIGNED_TO_TEAM),
       _S.CANCELLED, Role.OPD),
    _t(Action.DISPOSE, (_S.SUBMITTED,), _S.DISPOSED_TO_KABID, Role.KADIS),
    _t(Action.REJECT, (_S.SUBMITTED,), _S.REJECTED, Role.KADIS, needs_reason=True),
    _t(Action.RETURN, (_S.SUBMITTED,), _S.RETURNED, Role.KADIS, needs_reason=True),
    _t(Action.ASSIGN, (_S.DISPOSED_TO_KABID,), _S.ASSIGNED_TO_TEAM, Role.KABID, assigned=True),
    _t(Action.REJECT, (_S.DISPOSED_TO_KABID,), _S.REJECTED, Role.KABID, needs_reason=True,
       assigned=True),
    _t(Action.RETURN, (_S.DISPOSED_TO_KABID,), _S.RETURNED, Role.KABID, needs_reason=True,
       assigned=True),
    _t(Action.CHECK_BACKUP,
       (_S.ASSIGNED_TO_TEAM, _S.REOPENED, _S.BACKUP_CHECKED, _S.RESTORE_FAILED),
       _S.BACKUP_CHECKED, Role.TIM),
    _t(Action.START_RESTORE, (_S.BACKUP_CHECKED,), _S.RESTORING, Role.TIM),
    _t(Action.ABORT_RESTORE, (_S.RESTORING,), _S.BACKUP_CHECKED, Role.TIM),
    _t(Action.FAIL_RESTORE, (_S.RESTORING, _S.RESTORED), _S.RESTORE_FAILED, Role.TIM,
       needs_reason=True),
    _t(Action.FINISH_RESTORE, (_S.RESTORING,), _S.RESTORED, Role.TIM),
    _t(Action.VERIFY, (_S.RESTORED,), _S.VERIFIED, Role.TIM),
    _t(Action.ROLLBACK, _AFTER_SWAP, _S.RESTORE_FAILED, Role.TIM, needs_reason=True),
    _t(Action.SUBMIT_REPORT, (_S.VERIFIED,), _S.REPORT_SUBMITTED, Role.TIM),
    _t(Action.RATIFY, (_S.REPORT_SUBMITTED,), _S.REPORT_RATIFIED, Role.KABID, assigned=True),
    _t(Action.RETURN_REPORT, (_S.REPORT_SUBMITTED,), _S.VERIFIED, Role.KABID,
       needs_reason=True, assigned=True),
    _t(Action.NOTIFY, (_S.REPORT_RATIFIED,), _S.NOTIFIED, Role.TIM),
    _t(Action.ACKNOWLEDGE, (_S.NOTIFIED,), _S.ACKNOWLEDGED, Role.OPD),
    _t(Action.REOPEN, (_S.NOTIFIED,), _S.REOPENED, Role.OPD, needs_reason=True),
)

# Decisions that a person makes about a request someone else made or did:
# the actor may not be the requester (no self-approval).
APPROVALS = frozenset({Action.DISPOSE, Action.ASSIGN, Action.REJECT, Action.RETURN,
                       Action.RATIFY, Action.RETURN_REPORT})
# Ratifying a report may not be done by whoever ran the restore or wrote the report.
RATIFICATIONS = frozenset({Action.RATIFY, Action.RETURN_REPORT})
# Actions that may be repeated from the state they lead to (a re-check).
REPEATABLE = frozenset({Action.CHECK_BACKUP})


def transition_for(action: Action, state: State) -> Transition | None:
    """The transition that `action` makes from `state`, if the SOP has one."""
    for t in TRANSITIONS:
        if t.action is action and state in t.sources:
            return t
    return None


def transitions_from(state: State) -> list[Transition]:
    """Every transition the SOP allows out of `state`."""
    return [t for t in TRANSITIONS if state in t.sources]
