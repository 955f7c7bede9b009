"""What carries a stream's bytes, and how strictly the `ssh` processes log in."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import paramiko
import pytest

from restore.pipe import openssh_usable, ssh_argv
from restore.ssh import Endpoint, Remote


def test_openssh_carries_the_bytes_unless_the_key_asks_a_passphrase_or_the_office_says_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULIH_SSH_BYTES", raising=False)
    monkeypatch.delenv("PULIH_SSH_KEY_PASSPHRASE", raising=False)
    assert openssh_usable() is (shutil.which("ssh") is not None)
    monkeypatch.setenv("PULIH_SSH_BYTES", "paramiko")
    assert openssh_usable() is False
    monkeypatch.setenv("PULIH_SSH_BYTES", "otomatis")
    monkeypatch.setenv("PULIH_SSH_KEY_PASSPHRASE", "rahasia")
    assert openssh_usable() is False


def test_the_ssh_process_checks_the_same_host_key_and_reads_nothing_else() -> None:
    end = Endpoint("simpeg", "10.20.5.21", 2222, "pulih", Path("/data/ssh/id_ed25519"),
                   Path("/data/ssh/known_hosts"))
    remote = Remote(end, paramiko.SSHClient())
    words = ssh_argv(remote, ["cat", "--", "/srv/backup/a b.sql"], "pulih-run-1-ab-import")
    pairs = set(itertools.pairwise(words))
    for option in ("BatchMode=yes", "StrictHostKeyChecking=yes",
                   "UserKnownHostsFile=/data/ssh/known_hosts",
                   "GlobalKnownHostsFile=/dev/null", "IdentitiesOnly=yes",
                   "IdentityAgent=none"):
        assert ("-o", option) in pairs, option
    assert ("-F", "/dev/null") in pairs and ("-i", "/data/ssh/id_ed25519") in pairs
    assert ("-p", "2222") in pairs and ("-l", "pulih") in pairs
    # The command is one quoted word after the host, under the run's tag.
    assert words[-2] == "10.20.5.21"
    assert "'/srv/backup/a b.sql'" in words[-1] and words[-1].endswith("pulih-run-1-ab-import")
