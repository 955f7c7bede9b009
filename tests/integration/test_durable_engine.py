"""DBOS Transact, the durable engine issue 19's mass restore is to run on, checked before
Pulih builds on it: its queue keeps the limits an office sets (restores at once in all,
and per backup server), and a restore whose process is killed is taken up by the next
start, its finished steps kept and its interrupted step run again (which is why every
restore step must be safe to run twice). The application is tests/support/durable_probe.py,
each run a process of its own on a SQLite system database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from bot.demo.lab.postgres import create_database
from tests.support.durable_probe import (
    GLOBAL_LIMIT,
    PER_SERVER,
    SERVER_LIMITS,
    SLOTTED_RESTORES,
)

REPO = Path(__file__).resolve().parents[2]


def probe(mode: str, folder: Path, *more: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.support.durable_probe", mode,
                             str(folder), *more], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, **kw)


def events(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def most_at_once(seen: list[dict[str, Any]], server: str | None = None) -> int:
    """The most `work` steps running at the same moment (of one backup server's)."""
    running = most = 0
    marks = sorted((e["at"], e["kind"] == "work-start") for e in seen
                   if e["kind"] in ("work-start", "work-end")
                   and server in (None, e["server"]))
    for _, starts in marks:  # at a tie an end is counted before a start
        running += 1 if starts else -1
        most = max(most, running)
    return most


def test_the_queue_runs_every_restore_and_never_more_at_once_than_the_office_allows(
        tmp_path: Path) -> None:
    run = probe("limits", tmp_path)
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 0
    assert json.loads(out.strip().splitlines()[-1]) == [f"s{n:02d}" for n in range(12)]
    seen = events(tmp_path)
    assert sorted(e["key"] for e in seen if e["kind"] == "finish") == \
        [f"s{n:02d}" for n in range(12)]
    assert 2 <= most_at_once(seen) <= GLOBAL_LIMIT
    for server in ("backup-0", "backup-1", "backup-2"):
        assert 1 <= most_at_once(seen, server) <= PER_SERVER, server


def run_until_killed(first: subprocess.Popen[str], folder: Path) -> None:
    """Wait until both restores are in their long step, then kill their process."""
    assert first.stdout is not None
    assert first.stdout.readline().strip() == "READY"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (folder / "events.jsonl").exists() and \
                sum(e["kind"] == "work-start" for e in events(folder)) == 2:
            break
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(30)


def killed_while_working(folder: Path, *more: str) -> int:
    """A probe that starts two long restores, killed outright in their long step; its pid."""
    with probe("start", folder, *more, start_new_session=True) as first:
        try:
            run_until_killed(first, folder)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
                first.wait(30)
    assert first.returncode == -signal.SIGKILL
    return first.pid


def test_a_restore_whose_process_is_killed_is_finished_by_the_next_start_its_done_steps_kept(
        tmp_path: Path) -> None:
    killed = killed_while_working(tmp_path)

    taken_up(tmp_path, killed, probe("recover", tmp_path))


def taken_up(folder: Path, killed: int, by: subprocess.Popen[str]) -> None:
    """Both restores of the killed process finished by `by`: the finished step is not run
    again; the interrupted one is, in the new process."""
    out, _ = by.communicate(timeout=120)
    assert by.returncode == 0
    assert json.loads(out.strip().splitlines()[-1]) == ["a", "b"]
    seen = events(folder)
    for key in ("a", "b"):
        mine = [e for e in seen if e["key"] == key]
        assert [e["pid"] for e in mine if e["kind"] == "begin"] == [killed]
        assert [e["pid"] for e in mine if e["kind"] == "work-start"] == [killed, by.pid]
        assert [e["pid"] for e in mine if e["kind"] == "finish"] == [by.pid]


@pytest.mark.postgres
def test_two_workers_keep_each_backup_servers_own_limit_and_the_limit_in_all(
        tmp_path: Path, pg_server: str) -> None:
    """Servers allowed 1 and 3 restores at once (bot.durable.partitions' slots), 3 in all,
    two worker processes taking from the same queue in a shared PostgreSQL (on SQLite two
    processes were seen running 4 at once: more than one worker needs PostgreSQL)."""
    shared = {**os.environ, "PULIH_PROBE_DATABASE": create_database(
        pg_server, f"probe_{uuid.uuid4().hex[:12]}").replace("+psycopg", "")}
    with probe("serve", tmp_path, "worker-b", env=shared) as other:
        first = probe("slots", tmp_path, "worker-a", env=shared)
        out, _ = first.communicate(timeout=120)
        other.wait(60)
    assert first.returncode == 0 and other.returncode == 0
    expected = [f"{server}-{n}" for server, count in SLOTTED_RESTORES.items()
                for n in range(count)]
    assert json.loads(out.strip().splitlines()[-1]) == expected
    seen = events(tmp_path)
    assert sorted(e["key"] for e in seen if e["kind"] == "finish") == sorted(expected)
    assert most_at_once(seen) <= GLOBAL_LIMIT
    for server, limit in SERVER_LIMITS.items():
        assert 1 <= most_at_once(seen, server) <= limit, server
    assert most_at_once(seen, "backup-1") > 1  # its slots did run side by side
    assert {e["pid"] for e in seen} == {first.pid, other.pid}  # both workers took work


def test_a_killed_workers_restores_are_finished_by_another_worker_its_done_steps_kept(
        tmp_path: Path) -> None:
    killed = killed_while_working(tmp_path, "worker-a")
    taken_up(tmp_path, killed, probe("takeover", tmp_path, "worker-b", "worker-a"))
