"""Delivery receipts: one line appended to a file in the data folder just before a new
message is handed to the channel ("S <row>") and as soon as the channel has answered
("R <row> <message id>"). An append is a single small write with no lock to wait for,
unlike the database commit that settles the row a moment later; a process killed in
between leaves the receipt, and `reconcile` settles the row from it instead of sending
the message again. Only a kill while the request itself is on its way to the channel
leaves a row in doubt (README, "Exactly once")."""

from __future__ import annotations

import os
from pathlib import Path

MAX_SIZE = 1 << 20  # bytes; the file is emptied at a quiet moment once past this


class Receipts:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _write(self, line: str) -> None:
        os.write(self._fd, line.encode())

    def started(self, row_id: int) -> None:
        self._write(f"S {row_id}\n")

    def received(self, row_id: int, message_id: int) -> None:
        self._write(f"R {row_id} {message_id}\n")

    def read(self) -> tuple[set[int], dict[int, int]]:
        """(rows whose send started, rows the channel answered -> message id)."""
        started: set[int] = set()
        received: dict[int, int] = {}
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return started, received
        for line in text.splitlines():
            words = line.split()
            try:
                if len(words) == 2 and words[0] == "S":
                    started.add(int(words[1]))
                elif len(words) == 3 and words[0] == "R":
                    received[int(words[1])] = int(words[2])
            except ValueError:
                continue  # a line cut by the crash
        return started, received

    def clear(self, when_over: int = 0) -> None:
        """Empty the file (when it holds more than `when_over` bytes). Only at a moment
        when no send is under way and every earlier one is settled in the database."""
        if os.fstat(self._fd).st_size > when_over:
            os.ftruncate(self._fd, 0)

    def close(self) -> None:
        os.close(self._fd)
