"""Stopping a run's work on a server stops all of it, and nothing of another run that has
the same number (another Pulih restoring on the same server)."""

from __future__ import annotations

import subprocess
import time

from bot.demo.lab.sshd import SshServer
from restore.processes import run_tag, stop_run
from restore.safety import PIPE
from restore.ssh import connect


def test_stopping_a_run_stops_its_whole_pipeline_and_spares_a_namesake(
        target_server: SshServer) -> None:
    ours, theirs = run_tag(7), run_tag(7)
    assert ours != theirs and ours.startswith("pulih-run-7-")
    started = []
    for tag in (ours, theirs):
        remote = connect(target_server.endpoint())
        remote.tag = tag
        # A pipeline, as an import runs: the shell, and two programs under it.
        started.append((remote, remote.open("sleep", "300", PIPE, "cat")))
    time.sleep(0.5)

    def running(tag: str) -> int:
        listing = subprocess.run(["ps", "-eo", "sid=,args="], capture_output=True,
                                 text=True).stdout.splitlines()
        leaders = {line.split()[0] for line in listing if line.endswith(tag)}
        return sum(1 for line in listing if line.split()[0] in leaders)

    assert running(ours) >= 3 and running(theirs) >= 3
    try:
        remote = connect(target_server.endpoint())
        stopped = stop_run(remote, ours)
        assert stopped >= 3
        assert running(ours) == 0
        assert running(theirs) >= 3  # the other Pulih's run 7 goes on
        assert stop_run(remote, theirs) >= 3 and running(theirs) == 0
        remote.close()
    finally:
        for remote, channel in started:
            channel.close()
            remote.close()
