"""A throwaway PostgreSQL cluster on 127.0.0.1, run as the `postgres` user when we are root."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bot.demo.lab.loopback import free_port, let_others_through


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, if PostgreSQL is installed."""
    for candidate in [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                                                       reverse=True)]:
        if candidate and Path(candidate).exists():
            return Path(os.path.realpath(candidate)).parent
    return None


@contextmanager
def postgres_server(base: Path) -> Iterator[str]:
    """Start a cluster in `base`; yield a superuser URL; stop and remove it afterwards."""
    bindir = find_pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL (initdb, pg_ctl) is not installed")
    data, sock = base / "pgdata", base / "pgsock"
    sock.mkdir(parents=True)
    prefix: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        base.chmod(0o755)
        for path in (base, sock):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
        let_others_through(base)
    port = free_port()
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
                   check=True, capture_output=True)
    options = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                    "-l", str(base / "pg.log"), "-w", "-t", "60", "start"],
                   check=True, capture_output=True)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                                connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)


def create_database(server_url: str, name: str) -> str:
    """Create an empty database on the server; return its URL."""
    raw = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
