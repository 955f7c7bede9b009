"""Button data: short, versioned strings that name database rows, never trusted.

    v1:<verb>:<request id>:<request version>[:<argument>]

The version is the request's version when the card was made: a tap on an older card is
refused as already handled. Every tap is re-authorized against the database."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64  # Telegram's limit for callback_data
VERBS = {
    "d": "dispose",      # Kepala Dinas -> a Kepala Bidang (argument: person id)
    "r": "return",       # back to the requester for revision (asks for a reason)
    "x": "reject",       # reject (asks for a reason)
    "a": "assign",       # Kepala Bidang -> the team (argument 0) or a member (person id)
    "k": "assign",       # the same, with "coordinate with the agency first"
    "n": "assign",       # the same, with a note the Kepala Bidang types
    "b": "list",         # step 4: the system's restore points
    "c": "check",        # step 4: check a point (argument: when it was taken, epoch seconds)
    "u": "recheck",      # step 4 again: the point of an earlier check (argument: check id)
    "go": "restore",     # step 5: restore a checked point (argument: check id; typed name)
    "s": "stop",         # step 5: cancel a running restore (argument: run id)
    "rb": "rollback",    # put back the state before a restore (argument: run id; reason)
    "v": "accept",       # a restore a crash left live was looked at: submit the report
    "lp": "report",      # submit the report again after it was returned
    "y": "ratify",       # step 6: the Kepala Bidang ratifies the report
    "yr": "return_report",  # step 6: the report goes back to the team (asks for a reason)
    "ok": "acknowledge",  # step 8: received and as expected
    "no": "reopen",      # step 8: not as expected (asks for a reason)
}
_PATTERN = re.compile(r"^v1:([a-z]{1,2}):(\d{1,12}):(\d{1,9})(?::(\d{1,12}))?$")


@dataclass(frozen=True)
class Tap:
    verb: str
    request_id: int
    version: int
    argument: int | None = None

    def encode(self) -> str:
        data = f"v1:{self.verb}:{self.request_id}:{self.version}"
        if self.argument is not None:
            data += f":{self.argument}"
        if self.verb not in VERBS or len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data tidak sah: {data!r}")
        return data


def decode(data: str | None) -> Tap | None:
    """The tap, or None for anything that is not a well-formed v1 button."""
    match = _PATTERN.match(data or "")
    if match is None or match.group(1) not in VERBS:
        return None
    argument = match.group(4)
    return Tap(match.group(1), int(match.group(2)), int(match.group(3)),
               int(argument) if argument is not None else None)
