"""An unprivileged login with `sudo -n`: privileged commands work, quoting still holds."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.demo.lab.loopback import let_others_through
from bot.demo.lab.sshd import SshServer
from restore.errors import CommandFailed
from restore.safety import TO
from restore.ssh import Endpoint, session

USER = "pulih-sudo-uji"


@pytest.fixture(scope="module")
def sudo_user(backup_server: SshServer) -> Iterator[str]:
    """A throwaway login allowed password-less sudo (made only where the tests run as root)."""
    if os.geteuid() != 0 or shutil.which("sudo") is None:
        pytest.skip("needs root to create the test login, and sudo")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
    # "*": no password, yet not locked (sshd without PAM refuses locked accounts).
    subprocess.run(["usermod", "-p", "*", USER], check=True)
    # sshd reads authorized_keys as the user logging in.
    authorized = backup_server.folder / "authorized_keys"
    let_others_through(authorized)
    authorized.chmod(0o644)
    rule = Path("/etc/sudoers.d/pulih-sudo-uji")
    rule.write_text(f"{USER} ALL=(ALL) NOPASSWD: ALL\n")
    rule.chmod(0o440)
    try:
        yield USER
    finally:
        rule.unlink()


def _as(server: SshServer, user: str, sudo: bool) -> Endpoint:
    # The test sshd reads one authorized_keys file for every user.
    return replace(server.endpoint(), user=user, sudo=sudo)


def test_commands_run_as_root_through_sudo_and_as_the_user_without(
        backup_server: SshServer, sudo_user: str, tmp_path: Path) -> None:
    with session(_as(backup_server, sudo_user, sudo=False)) as remote:
        assert remote.run("id", "-un").text.strip() == sudo_user
    with session(_as(backup_server, sudo_user, sudo=True)) as remote:
        assert remote.run("id", "-un").text.strip() == "root"
        word = "$(touch /tmp/pulih-sudo-kanari); 'kutip'"
        assert remote.run("printf", "%s", word).stdout.decode() == word
        target = tmp_path / "milik-root.txt"
        channel = remote.open("cat", TO, str(target))
        channel.sendall(b"isi")
        channel.shutdown_write()
        assert channel.recv_exit_status() == 0
        channel.close()
    assert target.read_text() == "isi" and target.stat().st_uid == 0
    assert not Path("/tmp/pulih-sudo-kanari").exists()


def test_sudo_that_would_ask_for_a_password_fails_instead_of_hanging(
        backup_server: SshServer, sudo_user: str) -> None:
    rule = Path("/etc/sudoers.d/pulih-sudo-uji")
    saved = rule.read_text()
    rule.write_text(f"{sudo_user} ALL=(ALL) ALL\n")
    try:
        with session(_as(backup_server, sudo_user, sudo=True)) as remote:
            with pytest.raises(CommandFailed) as error:
                remote.run("id", "-un", timeout=20)
            assert "sudo" in error.value.message.lower()
    finally:
        rule.write_text(saved)
