"""What a person may choose on a card, as data: which choice on which request, as of which
version of it, with an optional argument (a person, a backup check, a restore run). The
core queues these; the chat wing turns them into buttons (`handlers.callbacks`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    kind: str  # a key of the chat's button table (`handlers.callbacks.BUTTONS`)
    request_id: int
    version: int
    argument: int | None = None
    variant: str = ""  # which of the kind's labels (the table's `variants`)
    name: str = ""  # the person or thing the choice names, as its label shows it

    def as_dict(self) -> dict[str, int | str | None]:
        return {"kind": self.kind, "request": self.request_id, "version": self.version,
                "argument": self.argument, "variant": self.variant, "name": self.name}

    @classmethod
    def from_dict(cls, data: dict[str, int | str | None]) -> Choice:
        argument = data.get("argument")
        return cls(str(data["kind"]), int(str(data["request"])), int(str(data["version"])),
                   None if argument is None else int(str(argument)),
                   str(data.get("variant") or ""), str(data.get("name") or ""))
