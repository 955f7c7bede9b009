"""`pulih worker` and `pulih queue` from a terminal, and the roster's rules on names."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from bot.bootstrap import Container
from bot.errors import PulihError
from bot.services.restores.workers import Member, join, roster
from tests.support.cli import office_env, pulih


def test_a_worker_on_sqlite_is_refused_with_what_it_needs(tmp_path: Path) -> None:
    env = office_env(tmp_path)
    assert pulih(env, "db", "upgrade").returncode == 0
    done = pulih(env, "worker", "--zone", "dc1")
    assert done.returncode == 1
    assert "butuh basis data PostgreSQL" in done.stderr and "`pulih run`" in done.stderr


def test_the_queue_when_nothing_waits_says_so(tmp_path: Path) -> None:
    env = office_env(tmp_path)
    assert pulih(env, "db", "upgrade").returncode == 0
    done = pulih(env, "queue")
    assert done.returncode == 0, done.stderr
    assert "Antrean restore: 0 berjalan, 0 menunggu (paling banyak 4 sekaligus" in done.stdout
    assert "Belum ada worker yang tercatat" in done.stdout


def test_a_bad_zone_name_is_refused_before_anything_runs(tmp_path: Path) -> None:
    done = pulih(office_env(tmp_path), "worker", "--zone", "dc 1; rm -rf /")
    assert done.returncode == 2 and "huruf, angka" in done.stderr


def test_a_second_living_worker_under_the_same_name_is_refused_and_a_dead_ones_name_reused(
        container: Container) -> None:
    host = socket.gethostname()
    other = subprocess.Popen(["sleep", "30"])
    try:
        join(container, Member("dc1", None, host, other.pid, time.time(), time.time()))
        with pytest.raises(PulihError) as refused:
            join(container, Member("dc1", None, host, os.getpid(), time.time(), time.time()))
        assert "Worker bernama dc1 sudah berjalan" in str(refused.value)
        assert [m.pid for m in roster(container)] == [other.pid]
    finally:
        other.kill()
        other.wait()
    # Its process is gone (a crash): the name is this worker's again, at once.
    join(container, Member("dc1", None, host, os.getpid(), time.time(), time.time()))
    assert [m.pid for m in roster(container)] == [os.getpid()]
