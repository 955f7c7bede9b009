"""OpenSSH connections logged in before their commands are known (ControlMaster): the
`ssh` processes that carry a stream's bytes (restore.pipe) then start as sessions of a
connection already made, in about 15 ms, instead of each logging in afresh (0.3 s here:
TCP, key exchange with its post-quantum half, authentication) while the team waits.

A master runs one command of its own, which reads its input to the end: it lives as long
as this process holds that input open, and after that (this process ended, or died) only
until the sessions it carries end. Its socket sits in a folder only this user may open:
one per transfer process, named after its pid, inside this user's own `pulih-ssh-<uid>`
folder, so that the folders of processes killed outright can be found and removed
(`clear_stale`, when the bot starts). Should a master not be up when the bytes are to
move, they go over a login of their own, as without one.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

from restore.pipe import endpoint_options
from restore.ssh import Endpoint, Remote

READY_WAIT = 20.0  # seconds a master may still take to log in once its sessions are due


class Master:
    """One logged-in OpenSSH connection to `endpoint`, shared through a socket."""

    def __init__(self, endpoint: Endpoint, socket_path: str) -> None:
        self.endpoint, self.path = endpoint, socket_path
        self.process = subprocess.Popen(
            ["ssh", *endpoint_options(endpoint), "-M", "-o", f"ControlPath={socket_path}",
             "-o", "ControlPersist=no", "--", endpoint.host, "cat >/dev/null"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready(self, wait: float = READY_WAIT) -> bool:
        """Whether it is logged in and takes sessions, waiting up to `wait` seconds."""
        deadline = time.monotonic() + wait
        while self.process.poll() is None:
            if os.path.exists(self.path):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return False

    def close(self) -> None:
        """End its own command; it goes once the sessions it carries have ended."""
        if self.process.stdin is not None:
            with suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Masters:
    """Masters to a run's endpoints, started together, lent to its Remotes."""

    def __init__(self, *endpoints: Endpoint) -> None:
        parent = _parent()
        self.folder = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent) if parent \
            else tempfile.mkdtemp(prefix="pulih-ssh-")  # mode 0700 either way
        self.masters = [Master(e, str(Path(self.folder) / str(n)))
                        for n, e in enumerate(endpoints)]

    def lend(self, *remotes: Remote | None) -> None:
        """Each remote's `ssh` processes go through the master of its endpoint, once that
        master is up; a remote whose master is not stays with logins of its own."""
        for remote in remotes:
            if remote is None:
                continue
            master = next((m for m in self.masters if m.endpoint == remote.endpoint), None)
            if master is not None and master.ready():
                remote.control = master.path

    def close(self) -> None:
        for master in self.masters:
            master.close()
        self.forget()

    def forget(self) -> None:
        """Remove the sockets' folder (no new session can start; running ones go on)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _parent() -> str | None:
    """This user's folder for the masters' sockets, made 0700 if missing; None when what
    is there is not a folder of this user's that only this user may open (another user
    made it first, or it is a link): each process then takes a folder of its own."""
    path = Path(tempfile.gettempdir()) / f"pulih-ssh-{os.getuid()}"
    with suppress(FileExistsError):
        os.mkdir(path, 0o700)
    found = os.lstat(path)
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or \
            found.st_mode & 0o077:
        return None
    return str(path)


def clear_stale() -> list[str]:
    """Remove the socket folders of transfer processes that are gone without removing
    them (killed outright: their masters ended with them); return those removed."""
    parent = _parent()
    if parent is None:
        return []
    removed = []
    for entry in os.scandir(parent):
        owner = entry.name.split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
