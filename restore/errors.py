"""What can go wrong in a check or a restore, each said in plain Indonesian."""

from __future__ import annotations

_DISK_FULL = ("No space left on device", "Disk quota exceeded", "Errcode: 28", "is full",
              "could not extend file")


def disk_full(said: str) -> bool:
    """Whether a command's error output says its disk (or quota) is full: the words of
    coreutils and tar, MariaDB and PostgreSQL."""
    return any(words in said for words in _DISK_FULL)


class RestoreError(Exception):
    """A failure with a message fit to show the team; live data was not touched unless said.
    (Its own base: the engine knows nothing of the bot that drives it.)"""

    code = "restore_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(RestoreError):
    code = "unreachable"


class HostKeyUnknown(RestoreError):
    code = "host_key_unknown"


class HostKeyChanged(RestoreError):
    code = "host_key_changed"


class AuthFailed(RestoreError):
    code = "auth_failed"


class ConnectionLost(RestoreError):
    code = "connection_lost"


class CommandFailed(RestoreError):
    code = "command_failed"


class UnsafeValue(RestoreError):
    code = "unsafe_value"


class BackupInvalid(RestoreError):
    code = "backup_invalid"


class BackupUnsafe(BackupInvalid):
    code = "backup_unsafe"


class ChecksumMismatch(RestoreError):
    code = "checksum_mismatch"


class NotEnoughSpace(RestoreError):
    code = "not_enough_space"


class Busy(RestoreError):
    code = "busy"


class Cancelled(RestoreError):
    code = "cancelled"
