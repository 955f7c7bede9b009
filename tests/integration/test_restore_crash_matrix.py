"""The restoring process killed (-9) in each phase of a restore, then `pulih recover`: no
process of the run still runs, no shadow or staging folder is left on the servers, live
data is whole (as before the restore, or as the backup), and the restore then succeeds."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.simpeg import damaged_simpeg, drop_simpeg, snapshot
from bot.demo.lab.sshd import SshServer, ssh_server
from restore.engine import STAGING_ROOT, Phase
from restore.recipes import RunNames
from tests.support.backups import tar_gz, write_point
from tests.support.clock import LAST_NIGHT, running
from tests.support.networked_office import networked_office
from tests.support.office import NIPS
from tests.support.restoring import tree

REPO = Path(__file__).resolve().parents[2]
DELAY = "0.15"  # seconds each database or file command waits on the slowed target
WEBSITE = {"index.php": b"<?php echo 'backup';", "data/a.txt": b"satu", "b.txt": b"dua"}
# Both kinds stream the backup into the shadow (no transfer phase of its own): a kill in
# APPLY lands while the import is prepared or fed.
PHASES = [Phase.APPLY, Phase.VERIFY, Phase.SWAP, Phase.POSTCHECK,
          Phase.CLEANUP]


@pytest.fixture
def slow_target(tmp_path: Path) -> Iterator[SshServer]:
    """The agency's VPS, whose database client and file tools take a moment to start (as
    on a loaded server): each phase lasts long enough to be cut in."""
    bin_dir = tmp_path / "slow-bin"
    bin_dir.mkdir()
    for tool in ("mysql", "tar", "find", "mv", "rm"):
        real = shutil.which(tool)
        assert real is not None
        wrapper = bin_dir / tool
        wrapper.write_text(f"#!/bin/sh\nsleep {DELAY}\nexec {real} \"$@\"\n")
        wrapper.chmod(0o755)
    path = f"{bin_dir}:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
    with ssh_server(tmp_path / "sshd-slow", "vps-lambat", env={"PATH": path}) as server:
        yield server


class Simpeg:
    """The MariaDB system: its states are table snapshots."""

    code = "simpeg"

    def __init__(self, mariadb: MariaDB, root: Path) -> None:
        self.mariadb, self.root = mariadb, root

    def damage(self) -> dict[str, object]:
        return dict(damaged_simpeg(self.mariadb, self.root, LAST_NIGHT))

    def state(self) -> object:
        return snapshot(self.mariadb)

    def shadows(self) -> list[str]:
        return [d for d in self.mariadb.sql("SHOW DATABASES").split()
                if d.startswith("pulih_sh_")]

    def kept(self, names: RunNames) -> bool:
        return names.rollback_db in self.mariadb.sql("SHOW DATABASES").split()


class Website:
    """The files system: its states are trees of file digests."""

    code = "web-kominfo"

    def __init__(self, app: Path, root: Path) -> None:
        self.app, self.root = app, root

    def damage(self) -> dict[str, object]:
        write_point(self.root / self.code, LAST_NIGHT, {"web.tar.gz": tar_gz(WEBSITE)})
        if self.app.exists():
            shutil.rmtree(self.app)
        self.app.mkdir(parents=True)
        (self.app / "index.php").write_bytes(b"<?php echo 'rusak';")
        return {"damaged": tree(self.app), "good": {
            p: hashlib.sha256(d).hexdigest() for p, d in WEBSITE.items()}}

    def state(self) -> object:
        return tree(self.app)

    def shadows(self) -> list[str]:
        return [str(p) for p in self.app.parent.glob("*.pulih-sh-*")]

    def kept(self, names: RunNames) -> bool:
        return Path(names.sibling(str(self.app), "rb")).is_dir()


def cli(env_file: Path, *args: str, typed: str = "") -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--env-file", str(env_file), *args], out=out, err=err, clock=running(),
                stdin=io.StringIO(typed))
    return code, out.getvalue() + err.getvalue()


def running_phases(database: Path) -> tuple[int, list[dict[str, str]]] | None:
    """The running restore's id and its journal, read as another process would."""
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.05) as conn:
            row = conn.execute("SELECT id, phases FROM restore_runs WHERE status = 'running'"
                               ).fetchone()
    except sqlite3.OperationalError:  # busy, or not made yet
        return None
    return (row[0], json.loads(row[1])) if row else None


def in_phase(phases: list[dict[str, str]], phase: Phase) -> bool:
    started = [p for p in phases if p["status"] in ("started", "done")]
    return bool(started) and started[-1]["phase"] == phase.value and \
        started[-1]["status"] == "started"


class Missed(Exception):
    """The restore ran to its end before the phase was seen running (a busy machine can
    starve the watcher): the system is restored, so it must be broken again to retry."""


def kill_in(env_file: Path, database: Path, system: str, phase: Phase) -> int | None:
    """Start `pulih restore` in a process of its own and kill -9 it while `phase` runs;
    the run's id, or None when the phase went by too fast to be cut."""
    code = ("import sys; from tests.support.clock import running; from bot.cli import main;"
            " sys.exit(main(sys.argv[1:], clock=running()))")
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--env-file", str(env_file), "restore", system,
         LAST_NIGHT, "--nip", NIPS["tim_exec"]], cwd=REPO, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    assert process.stdin is not None
    process.stdin.write(system + "\n")
    process.stdin.close()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            seen = running_phases(database)
            if seen is not None and in_phase(seen[1], phase):
                process.send_signal(signal.SIGKILL)
                process.wait()
                after = running_phases(database)
                return seen[0] if after is not None and in_phase(after[1], phase) else None
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode == 0:
        raise Missed(phase.value)
    raise AssertionError(f"the restore ended (exit {process.returncode}) before "
                         f"{phase.value} was seen running")


def names_of(database: Path, run_id: int) -> RunNames:
    """The run's names, from its UUID as recorded."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        (uid,) = conn.execute("SELECT uid FROM restore_runs WHERE id = ?", (run_id,)).fetchone()
    assert len(uid) == 32
    return RunNames(run_id, uid)


def leftovers(names: RunNames, system: Simpeg | Website) -> list[str]:
    """What of the run is still on the servers: processes, shadows, staging."""
    run_id, key = names.run_id, re.escape(names.key)
    marks = re.compile(rf"{names.shadow_db}\b|pulih-staging/{key}\b|\.pulih-sh-{key}\b"
                       rf"|pulih-run-{run_id}\b")
    me = os.getpid()
    processes = [line for line in subprocess.run(["ps", "-eo", "pid=,args="],
                                                 capture_output=True, text=True).stdout
                 .splitlines() if marks.search(line) and int(line.split()[0]) != me]
    shadows = system.shadows()
    staging = [str(p) for p in [Path(STAGING_ROOT) / names.key] if p.exists()]
    return processes + shadows + staging


@pytest.mark.slow  # up to 18 processes killed and recovered per kind: one to two minutes
@pytest.mark.parametrize("kind", ["mariadb", "files"])
def test_a_restore_killed_in_any_phase_is_recovered_clean_and_can_be_done_again(
        tmp_path: Path, backup_server: SshServer, slow_target: SshServer, mariadb: MariaDB,
        monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    root = tmp_path / "srv-backup"
    system: Simpeg | Website = Simpeg(mariadb, root) if kind == "mariadb" else \
        Website(tmp_path / "www" / "kominfo", root)
    states = system.damage()
    env_file = networked_office(tmp_path, backup_server, slow_target, root,
                                system_extra=f'db_host = "{mariadb.socket}"\ndb_user = "root"',
                                web_app_dir=str(tmp_path / "www" / "kominfo"))
    database = tmp_path / "pulih.sqlite3"
    try:
        for phase in PHASES:
            for _attempt in range(4):
                try:
                    run_id = kill_in(env_file, database, system.code, phase)
                except Missed:
                    run_id = None
                    states = system.damage()
                if run_id is not None:
                    break
            assert run_id is not None, f"{phase.value} was never caught running"
            code, said = cli(env_file, "recover")
            assert code == 0 and f"restore #{run_id}" in said, said
            names = names_of(database, run_id)
            assert leftovers(names, system) == [], (phase, said)
            live = system.state()
            assert live in (states["damaged"], states["good"]), phase
            if phase in (Phase.TRANSFER, Phase.APPLY, Phase.VERIFY):
                assert live == states["damaged"], phase  # the swap never came
            if phase in (Phase.POSTCHECK, Phase.CLEANUP):
                assert live == states["good"], phase  # swapped, its copy kept for rollback
                assert system.kept(names), phase
            code, said = cli(env_file, "restore", system.code, LAST_NIGHT, "--nip",
                             NIPS["tim_exec"], typed=system.code + "\n")
            assert code == 0, (phase, said)
            assert system.state() == states["good"], phase
            states = system.damage()  # broken again for the next
    finally:
        drop_simpeg(mariadb)


def test_a_restore_killed_mid_stream_with_its_transfer_process_leaves_live_whole(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        mariadb: MariaDB) -> None:
    """The bot and its transfer process killed -9 together while the dump flows into the
    shadow's import (held at the inventory's max_rate, so the stream lasts): live data is
    as it was, `pulih recover` leaves nothing of the run, and the restore then succeeds."""
    root = tmp_path / "srv-backup"
    states = damaged_simpeg(mariadb, root, LAST_NIGHT, rows=40000)
    env_file = networked_office(
        tmp_path, backup_server, target_server, root,
        system_extra=f'db_host = "{mariadb.socket}"\ndb_user = "root"\nmax_rate = "64 KiB/s"')
    database = tmp_path / "pulih.sqlite3"
    code = ("import sys; from tests.support.clock import running; from bot.cli import main;"
            " sys.exit(main(sys.argv[1:], clock=running()))")
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", code, "--env-file", str(env_file), "restore", "simpeg",
             LAST_NIGHT, "--nip", NIPS["tim_exec"]], cwd=REPO, stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True)
        assert process.stdin is not None
        process.stdin.write("simpeg\n")
        process.stdin.close()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            importing = subprocess.run(["pgrep", "-f", "pulih-run-.*-impor[t]$"],
                                       capture_output=True).returncode == 0
            if importing and any(d.startswith("pulih_sh_")
                                 for d in mariadb.sql("SHOW DATABASES").split()):
                break
            time.sleep(0.05)
        assert process.poll() is None, "the restore ended before its stream was seen"
        time.sleep(1.0)  # some rows in the shadow, most of the dump still to come
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        assert snapshot(mariadb) == states["damaged"]
        found = running_phases(database)
        assert found is not None
        run_id, _ = found
        said_code, said = cli(env_file, "recover")
        assert said_code == 0 and f"restore #{run_id}" in said, said
        assert leftovers(names_of(database, run_id), Simpeg(mariadb, root)) == []
        assert snapshot(mariadb) == states["damaged"]
        said_code, said = cli(env_file, "restore", "simpeg", LAST_NIGHT, "--nip",
                              NIPS["tim_exec"], typed="simpeg\n")
        assert said_code == 0, said
        assert snapshot(mariadb) == states["good"]
    finally:
        drop_simpeg(mariadb)
