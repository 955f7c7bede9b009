"""A throwaway MariaDB server on 127.0.0.1 with its own socket: run as the `mysql` user and
reached as MariaDB's root when we are root; run as, and reached as, the installing user
otherwise (MariaDB lets the operating-system user who installs it in through the socket)."""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.demo.lab.loopback import free_port, let_others_through, missing, niced, program, stop

TOOLS = ("mariadbd", "mariadb-install-db", "mariadb", "mariadb-dump")


def _path(name: str) -> str:
    return program(name) or name


def mariadb_available() -> bool:
    return not missing(TOOLS)


def lab_user() -> str:
    """Who the lab's MariaDB lets in through its socket: root, or the installing user."""
    return "root" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


@dataclass(frozen=True)
class MariaDB:
    socket: Path
    port: int
    user: str = field(default_factory=lab_user)

    def sql(self, statement: str, database: str | None = None) -> str:
        """Run SQL through the socket; return tab-separated output."""
        args = ["mariadb", "-S", str(self.socket), "-u", self.user, "-N", "-B",
                "--default-character-set=utf8mb4", "-e", statement]
        if database:
            args.append(database)
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@contextmanager
def mariadb_server(folder: Path, nice: int = 0) -> Iterator[MariaDB]:
    """A MariaDB in `folder`; `nice` lowers its priority (a server that stands for
    another machine)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    user = "mysql" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        owner = pwd.getpwnam("mysql")
        folder.chmod(0o755)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        let_others_through(folder)
    subprocess.run([_path("mariadb-install-db"), f"--datadir={data}", f"--user={user}",
                    "--auth-root-authentication-method=socket", "--skip-test-db"],
                   check=True, capture_output=True)
    sock, port = folder / "mysqld.sock", free_port()
    process = subprocess.Popen(
        [*niced(nice), _path("mariadbd"), "--no-defaults", f"--datadir={data}", f"--socket={sock}",
         f"--port={port}",
         "--bind-address=127.0.0.1", f"--user={user}", f"--pid-file={folder / 'mysqld.pid'}",
         f"--log-error={folder / 'error.log'}", "--innodb-buffer-pool-size=64M",
         "--innodb-log-file-size=48M", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=2",
         "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = MariaDB(sock, port)
    deadline = time.monotonic() + 60
    while True:
        try:
            server.sql("SELECT 1")
            break
        except subprocess.CalledProcessError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "error.log").read_text() if (folder / "error.log").exists() \
                    else ""
                raise RuntimeError(f"mariadbd did not start: {log[-2000:]}") from None
            time.sleep(0.2)
    try:
        yield server
    finally:
        stop(process, 30)
