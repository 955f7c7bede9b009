"""The key of the activity record's chain, kept in a file beside the database, not in it.

Whoever can write the database can edit an event and recompute a plain SHA-256 chain;
without this file they cannot recompute an HMAC one. The file also says from which event
the chain is keyed, so a record begun before the key existed still verifies (its earlier
events with the plain hash), and that boundary cannot be moved from inside the database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import PulihError

KEY_FILE = "audit.key"
_HEADER = "pulih-audit-key 1"


@dataclass(frozen=True)
class ChainKey:
    secret: bytes
    since: int  # the first event hashed with the key

    def keys(self, seq: int) -> bool:
        return seq >= self.since


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def read_key(path: Path) -> ChainKey:
    try:
        lines = path.read_text(encoding="ascii").split()
        if len(lines) != 4 or " ".join(lines[:2]) != _HEADER:
            raise ValueError("format")
        return ChainKey(bytes.fromhex(lines[2]), int(lines[3].removeprefix("sejak=")))
    except (OSError, ValueError) as exc:
        raise PulihError(f"Kunci catatan kegiatan {path} tidak dapat dibaca ({exc}); tanpa "
                         "kunci itu catatan tidak dapat ditambah atau diverifikasi.") from exc


def ensure_key(path: Path, next_seq: Callable[[], int]) -> ChainKey:
    """The key in `path`, made (0600, once, even when two processes race) if there is none:
    it then keys the chain from the next event on."""
    if path.exists():
        return read_key(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = f"{_HEADER}\n{secrets.token_hex(32)}\nsejak={next_seq()}\n"
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if another process made it first: theirs wins
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return read_key(path)


class KeySource:
    """The chain key of one office, read once: made on first need by a writer (the event
    about to be appended is then the first keyed one), only read by a verifier."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: ChainKey | None = None

    def __call__(self, next_seq: int | None) -> ChainKey | None:
        if self._key is None:
            if self.path.exists():
                self._key = read_key(self.path)
            elif next_seq is not None:
                self._key = ensure_key(self.path, lambda: next_seq)
        return self._key
