"""What a person may choose on a card, as data: which choice on which request, as of which
version of it, with an optional argument (a person, a backup check, a restore run). The
core queues these; the chat wing turns them into buttons (`handlers.callbacks`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    kind: str  # a key of the chat's button table (`handlers.callbacks.VERBS`)
    request_id: int
    version: int
    argument: int | None = None

    def as_list(self) -> list[int | str | None]:
        return [self.kind, self.request_id, self.version, self.argument]
