"""The logins a restore needs are made while its confirmation is typed, and the run takes
them; a login nobody takes, or one the server dropped, is never used."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.bootstrap import Container
from bot.demo.lab.sshd import SshServer
from bot.services.restores.backups import system_access
from bot.services.restores.runs import expect_run
from restore import parked
from restore.errors import HostKeyChanged
from restore.ssh import Endpoint, Remote
from restore.transfer_process import close_spare


def _made(endpoint: Endpoint) -> Remote:
    return parked._parked[endpoint][0].result(timeout=30)


def _logins(server: SshServer) -> int:
    return (server.folder / "sshd.log").read_text().count("Accepted publickey")


def test_the_run_takes_the_logins_made_while_its_confirmation_was_typed(
        backup_server: SshServer, target_server: SshServer) -> None:
    backup, target = backup_server.endpoint(), target_server.endpoint()
    try:
        parked.park(backup, target)
        parked.park(backup, target)  # a double tap logs in once
        early = {endpoint: _made(endpoint) for endpoint in (backup, target)}
        logins = _logins(target_server)
        taken = parked.take(target)
        assert taken is early[target] and _logins(target_server) == logins
        assert taken.run("echo", "siap").stdout == b"siap\n"
        assert parked.parked() == [backup]
        again = parked.take(target)  # nothing parked for it any more: a login of its own
        assert again is not taken and again.alive()
        again.close()
        taken.close()
    finally:
        parked.close_parked()


def test_a_parked_login_the_server_dropped_is_replaced_by_a_new_one(
        target_server: SshServer) -> None:
    target = target_server.endpoint()
    try:
        parked.park(target)
        dropped = _made(target)
        dropped.client.close()
        fresh = parked.take(target)
        assert fresh is not dropped and fresh.run("echo", "baru").stdout == b"baru\n"
        fresh.close()
    finally:
        parked.close_parked()


def test_a_parked_login_nobody_takes_is_logged_out(
        target_server: SshServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parked, "PARK_FOR", 0.3)
    target = target_server.endpoint()
    parked.park(target)
    unused = _made(target)
    deadline = time.monotonic() + 10
    while (parked.parked() or unused.alive()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert parked.parked() == [] and not unused.alive()


def test_a_parked_login_that_failed_leaves_the_run_to_report_its_own(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer) -> None:
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{target_server.port} {backup_server.host_public}\n")
    forged = target_server.endpoint(known_hosts=wrong)
    parked.park(forged)
    with pytest.raises(HostKeyChanged):
        parked.take(forged)
    assert parked.parked() == []


def test_tapping_restore_logs_in_ahead_to_the_systems_backup_server_and_target(
        container: Container) -> None:
    try:
        with container.sessions() as session:
            portal = system_access(session, "portal-pendidikan", container.settings.timezone)
        expect_run(container, "portal-pendidikan")
        expect_run(container, "tidak-terdaftar")
        assert sorted(e.name for e in parked.parked()) == \
            sorted([portal.backup.name, portal.target.name])
    finally:
        parked.close_parked()
        close_spare()
