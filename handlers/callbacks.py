"""The buttons: ONE table of every button Pulih shows (what a tap does, what it is
labelled, what it asks before acting, how the card reads after), and the callback data
that carries a tap: short, versioned strings that name database rows, never trusted.

    v1:<verb>:<request id>:<request version>[:<argument>]

The version is the request's version when the card was made: a tap on an older card is
refused as already handled. Every tap is re-authorized against the database. Adding a
button is one row here and its handler (`handlers/decisions.py` for a decision on a
card, `handlers/team.py` for a team step)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton

from bot.workflow.choices import Choice
from bot.workflow.sop import Action

MAX_BYTES = 64  # Telegram's limit for callback_data


@dataclass(frozen=True)
class ButtonKind:
    action: Action  # what a tap asks of the SOP (re-authorized at the tap)
    label: str  # as shown; `{name}` is the person or thing the choice names
    variants: dict[str, str] = field(default_factory=dict)  # other labels, by variant
    asks: str = ""  # a decision that needs words first: the question put to the person
    verdict: str = ""  # a decision: how its card reads once taken
    instruction: str = ""  # an assignment: what the team is told to do
    team: bool = False  # a team step, tapped in the team group (`handlers/team.py`)


BUTTONS: dict[str, ButtonKind] = {
    # Steps 2 and 3: the Kepala Dinas and the Kepala Bidang decide on a card.
    "d": ButtonKind(Action.DISPOSE, "Disposisi ke {name}", verdict="Didisposisikan"),
    "r": ButtonKind(Action.RETURN, "Kembalikan", verdict="Dikembalikan",
                    asks="Tulis alasan mengembalikan permohonan"),
    "x": ButtonKind(Action.REJECT, "Tolak", verdict="Ditolak",
                    asks="Tulis alasan menolak permohonan"),
    "a": ButtonKind(Action.ASSIGN, "Ke {name}", {"grup": "Ke Tim Teknis (grup)"},
                    verdict="Diteruskan ke Tim Teknis",
                    instruction="Laksanakan restore, laporkan hasil"),
    "k": ButtonKind(Action.ASSIGN, "Ke Tim: koordinasikan dulu dengan OPD",
                    verdict="Diteruskan ke Tim Teknis",
                    instruction="Koordinasikan dengan OPD, lalu laksanakan restore dan "
                                "laporkan hasil"),
    "n": ButtonKind(Action.ASSIGN, "Ke Tim dengan catatan...", verdict="Diteruskan ke Tim Teknis",
                    asks="Tulis catatan untuk Tim Teknis tentang permohonan",
                    instruction="Laksanakan sesuai catatan"),
    # Steps 4 and 5, in the team group.
    "b": ButtonKind(Action.CHECK_BACKUP, "Cek backup", {"lain": "Cek titik lain"}, team=True),
    "c": ButtonKind(Action.CHECK_BACKUP, "{name}", team=True),  # one restore point
    "u": ButtonKind(Action.CHECK_BACKUP, "Ulangi (cek titik yang sama)", team=True),
    "go": ButtonKind(Action.START_RESTORE, "Restore titik ini", {"lagi": "Restore lagi"},
                     team=True),
    "s": ButtonKind(Action.ABORT_RESTORE, "Batal", {"kode": "Batal {name}"}, team=True),
    "rb": ButtonKind(Action.ROLLBACK, "Rollback", team=True),
    "v": ButtonKind(Action.VERIFY, "Sudah diperiksa: ajukan laporan", team=True),
    "lp": ButtonKind(Action.SUBMIT_REPORT, "Ajukan laporan lagi", team=True),
    # Step 6: the Kepala Bidang on the report; step 8: the agency on the result.
    "y": ButtonKind(Action.RATIFY, "Sahkan", verdict="Laporan disahkan"),
    "yr": ButtonKind(Action.RETURN_REPORT, "Kembalikan", verdict="Laporan dikembalikan",
                     asks="Tulis alasan mengembalikan laporan restore permohonan"),
    # An incident's shared cards (`handlers/incidents.py`): the request field carries
    # the incident and the version field a digest of the requests the card listed.
    "ia": ButtonKind(Action.DISPOSE, "Disposisi semua ke {name}", verdict="Didisposisikan"),
    "it": ButtonKind(Action.ASSIGN, "Tugaskan semua ke Tim Teknis",
                     verdict="Diteruskan ke Tim Teknis"),
    "iy": ButtonKind(Action.RATIFY, "Sahkan semua laporan", verdict="Laporan disahkan"),
    "ir": ButtonKind(Action.CHECK_BACKUP, "Periksa & pulihkan semua"),
    # One request of an incident: off the shared cards (request, version, incident), and
    # the agency's details added to it.
    "ip": ButtonKind(Action.DISPOSE, "Pisahkan {name}"),
    "ik": ButtonKind(Action.SUBMIT, "Tambah keterangan"),
    "ok": ButtonKind(Action.ACKNOWLEDGE, "Diterima / Sesuai", verdict="Diterima dan sesuai"),
    "no": ButtonKind(Action.REOPEN, "Belum sesuai", verdict="Belum sesuai",
                     asks="Tulis apa yang belum sesuai pada permohonan"),
}
INCIDENT_PATTERN = "^v1:i[a-z]:"
TEAM_PATTERN = "^v1:(" + "|".join(v for v, b in BUTTONS.items() if b.team) + "):"
_PATTERN = re.compile(r"^v1:([a-z]{1,2}):(\d{1,12}):(\d{1,9})(?::(\d{1,12}))?$")


@dataclass(frozen=True)
class Tap:
    verb: str
    request_id: int
    version: int
    argument: int | None = None

    @property
    def kind(self) -> ButtonKind:
        return BUTTONS[self.verb]

    def encode(self) -> str:
        data = f"v1:{self.verb}:{self.request_id}:{self.version}"
        if self.argument is not None:
            data += f":{self.argument}"
        if self.verb not in BUTTONS or len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data tidak sah: {data!r}")
        return data


def decode(data: str | None) -> Tap | None:
    """The tap, or None for anything that is not a well-formed v1 button."""
    match = _PATTERN.match(data or "")
    if match is None or match.group(1) not in BUTTONS:
        return None
    argument = match.group(4)
    return Tap(match.group(1), int(match.group(2)), int(match.group(3)),
               int(argument) if argument is not None else None)


def button(tap: Tap, *, variant: str = "", name: str = "") -> InlineKeyboardButton:
    """The button for `tap`, labelled from the table."""
    kind = BUTTONS[tap.verb]
    label = kind.variants[variant] if variant else kind.label
    return InlineKeyboardButton(label.format(name=name), callback_data=tap.encode())


def choice_button(choice: Choice) -> InlineKeyboardButton:
    """The button for a choice the core queued."""
    return button(Tap(choice.kind, choice.request_id, choice.version, choice.argument),
                  variant=choice.variant, name=choice.name)
