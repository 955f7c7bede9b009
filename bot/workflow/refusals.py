"""Refusals: why an action was not carried out, in words fit to show the user."""

from __future__ import annotations


class Refusal(Exception):
    """An action that was refused; nothing was changed. `message` is Indonesian. (Its own
    base: the SOP as data imports nothing else of Pulih.)"""

    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotLinked(Refusal):
    code = "not_linked"

    def __init__(self) -> None:
        super().__init__(
            "Akun Telegram Anda belum terhubung dengan data pegawai di Pulih. "
            "Silakan hubungi admin Diskominfo untuk mendapatkan tautan aktivasi."
        )


class NotAllowed(Refusal):
    code = "not_allowed"


class WrongAgency(Refusal):
    code = "wrong_agency"

    def __init__(self) -> None:
        super().__init__("Anda hanya dapat bertindak untuk permohonan dari OPD Anda sendiri.")


class NotAssigned(Refusal):
    code = "not_assigned"

    def __init__(self) -> None:
        super().__init__("Permohonan ini didisposisikan kepada Kepala Bidang lain.")


class SelfApproval(Refusal):
    code = "self_approval"

    def __init__(self) -> None:
        super().__init__("Anda tidak dapat memutuskan permohonan yang Anda ajukan sendiri.")


class SelfRatification(Refusal):
    code = "self_ratification"

    def __init__(self) -> None:
        super().__init__(
            "Anda tidak dapat mengesahkan laporan restore yang Anda kerjakan atau susun sendiri."
        )


class AlreadyDecided(Refusal):
    code = "already_decided"


class InvalidState(Refusal):
    code = "invalid_state"


class ReasonRequired(Refusal):
    code = "reason_required"

    def __init__(self) -> None:
        super().__init__("Tindakan ini memerlukan alasan. Silakan tuliskan alasannya.")


class NotFound(Refusal):
    code = "not_found"
