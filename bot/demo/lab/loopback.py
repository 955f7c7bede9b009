"""Ports and folders for servers started on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def let_others_through(folder: Path) -> None:
    """Give every parent of `folder` the execute bit for others, so a server running as
    its own user (postgres, mysql) can reach a folder made by root."""
    for parent in folder.parents:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def niced(nice: int) -> list[str]:
    """The words that start a server at a lower priority (none for 0)."""
    return ["nice", "-n", str(nice)] if nice else []


def stop(process: subprocess.Popen[bytes], grace: float) -> None:
    """Ask the server to stop; kill it if it has not within `grace` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# Where Debian puts servers (sshd, mariadbd): not on a normal user's PATH.
SYSTEM_BIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def program(name: str) -> str | None:
    """The full path of an installed program: on PATH, in the system folders a normal
    user's PATH leaves out, or `name` itself when it is an absolute path that exists."""
    if Path(name).is_absolute():
        return name if Path(name).exists() else None
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SYSTEM_BIN))


def missing(tools: Iterable[str]) -> list[str]:
    """The names of the programs that are not installed (see `program`)."""
    return [Path(tool).name for tool in tools if program(tool) is None]


OFFICE_ENV = ("PULIH_DATABASE_URL", "PULIH_DATA_DIR", "PULIH_INVENTORY", "PULIH_ENV_FILE")


@contextmanager
def without_office_env() -> Iterator[None]:
    """The caller's own PULIH_* office settings set aside (the environment wins over an
    env file, so a lab office must not inherit them), and put back afterwards."""
    saved = {key: os.environ.pop(key) for key in OFFICE_ENV if key in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
