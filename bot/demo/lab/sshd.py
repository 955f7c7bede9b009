"""Real OpenSSH servers on 127.0.0.1 with throwaway host keys."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bot.demo.lab.loopback import free_port, missing, niced, program, stop
from bot.services.office.setup import make_ssh_key
from restore.pull import Pull
from restore.ssh import Endpoint

SSHD = program("sshd") or "/usr/sbin/sshd"


TOOLS = (SSHD, "ssh-keygen")


def sshd_available() -> bool:
    return not missing(TOOLS)


@dataclass
class SshServer:
    name: str
    port: int
    folder: Path
    process: subprocess.Popen[bytes]
    user_key: Path
    known_hosts: Path
    host_public: str

    def endpoint(self, *, sudo: bool = False, key: Path | None = None,
                 known_hosts: Path | None = None) -> Endpoint:
        user = pwd.getpwuid(os.geteuid()).pw_name  # the sshd lets in whoever runs it
        return Endpoint(self.name, "127.0.0.1", self.port, user, key or self.user_key,
                        known_hosts or self.known_hosts, sudo)

    def allow_pull(self, key: Path, folder: Path, command: Path) -> Pull:
        """Make `key` (on the target: this machine) and let it run `command FOLDER` here
        and nothing else, as a system whose target pulls its backups itself is set up
        (the line README gives for authorized_keys); how the target then reaches us."""
        make_ssh_key(key, f"pulih-tarik-{folder.name}")
        public = key.with_name(key.name + ".pub").read_text().strip()
        with (self.folder / "authorized_keys").open("a") as keys:
            keys.write(f'restrict,command="{command} {folder}" {public}\n')
        return Pull("127.0.0.1", self.port, self.endpoint().user, str(key),
                    str(self.known_hosts))

    def ssh_command(self) -> list[str]:
        """OpenSSH's own client logging in here, as an engineer would by hand."""
        return ["ssh", "-q", "-i", str(self.user_key), "-p", str(self.port),
                "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                f"{self.endpoint().user}@127.0.0.1"]

    def kill_sessions(self) -> int:
        """Kill the per-connection server processes (the listener stays)."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                                  text=True).stdout.split()
        for pid in children:
            with suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        return len(children)


@contextmanager
def ssh_server(folder: Path, name: str, client_key: Path | None = None,
               nice: int = 0, env: dict[str, str] | None = None) -> Iterator[SshServer]:
    """An sshd on a free port of 127.0.0.1 that lets in the key pair `client_key` (the
    private key's path; its `.pub` beside it), or a key pair made for it; `nice` lowers
    its priority and its sessions' (a server that stands for another machine); `env` is
    set in every session (a locale, say)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation
    host_key = folder / "host_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)],
                   check=True)
    user_key = client_key or folder / "user_ed25519"
    if client_key is None:
        make_ssh_key(user_key, "pulih-lab")
    authorized = folder / "authorized_keys"
    shutil.copyfile(user_key.with_name(user_key.name + ".pub"), authorized)
    port = free_port()
    # bash run by sshd reads ~/.bashrc even for one command; the lab user's is this
    # machine's own (a pyenv set-up costs 0.1 s a command), not the stand-in server's.
    home = folder / "home"
    home.mkdir(exist_ok=True)
    config = folder / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {folder / 'sshd.pid'}
AuthorizedKeysFile {authorized}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
MaxStartups 100:30:200
MaxSessions 100
LogLevel ERROR
SetEnv HOME={home} {" ".join(f"{k}={v}" for k, v in (env or {}).items())}
""")
    process = subprocess.Popen([*niced(nice), SSHD, "-D", "-e", "-f", str(config), "-E",
                                str(folder / "sshd.log")])
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "sshd.log").read_text() if (folder / "sshd.log").exists() else ""
                raise RuntimeError(f"sshd did not start: {log}") from None
            time.sleep(0.05)
    host_public = (folder / "host_ed25519.pub").read_text().split()
    known = folder / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_public[0]} {host_public[1]}\n")
    try:
        yield SshServer(name, port, folder, process, user_key, known,
                        f"{host_public[0]} {host_public[1]}")
    finally:
        stop(process, 10)
