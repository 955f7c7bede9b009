"""SSH access against a real sshd: strict host keys, clear refusals, quoted commands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.bootstrap import bootstrap
from bot.demo.lab.loopback import free_port
from bot.demo.lab.sshd import SshServer
from bot.services.office.setup import make_ssh_key
from bot.settings import load_settings
from restore.errors import AuthFailed, CommandFailed, HostKeyChanged, HostKeyUnknown, Unreachable
from restore.safety import PIPE, TO
from restore.ssh import connect, session

HOSTILE = ["; rm -rf /tmp/pulih-x", "$(touch {canary})", "`touch {canary}`", "a'b\"c",
           "line\nbreak", "../../etc/passwd", "ünïcödé-" * 40, "--help", "*"]


def test_a_known_host_logs_in_and_runs_a_command(backup_server: SshServer) -> None:
    with session(backup_server.endpoint()) as remote:
        result = remote.run("echo", "sugeng")
        assert result.status == 0 and result.text == "sugeng\n"


def test_an_unknown_host_key_is_refused_naming_the_host_and_fingerprint(
        backup_server: SshServer, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyUnknown) as error:
        connect(backup_server.endpoint(known_hosts=empty))
    message = error.value.message
    assert f"127.0.0.1:{backup_server.port}" in message and "SHA256:" in message
    assert "belum dikenal" in message
    # the fingerprint shown is the server's real one
    import subprocess

    printed = subprocess.run(["ssh-keygen", "-lf", str(backup_server.folder /
                                                        "host_ed25519.pub")],
                             capture_output=True, text=True, check=True).stdout.split()[1]
    assert printed in message


def test_a_changed_host_key_is_refused_before_login(backup_server: SshServer,
                                                    target_server: SshServer,
                                                    tmp_path: Path) -> None:
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{backup_server.port} {target_server.host_public}\n")
    with pytest.raises(HostKeyChanged) as error:
        connect(backup_server.endpoint(known_hosts=wrong))
    assert "BERBEDA" in error.value.message
    log = (backup_server.folder / "sshd.log").read_text()
    assert "Accepted publickey" not in log[-2000:]


def test_a_key_the_server_does_not_accept_is_a_clear_refusal(backup_server: SshServer,
                                                             tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    make_ssh_key(stranger)
    with pytest.raises(AuthFailed) as error:
        connect(backup_server.endpoint(key=stranger))
    assert "ditolak" in error.value.message


def test_a_host_that_does_not_answer_is_unreachable(backup_server: SshServer) -> None:
    endpoint = backup_server.endpoint()
    closed = type(endpoint)(endpoint.name, "127.0.0.1", free_port(), endpoint.user,
                            endpoint.key_path, endpoint.known_hosts)
    with pytest.raises(Unreachable) as error:
        connect(closed)
    assert "tidak dapat dihubungi" in error.value.message


def test_hostile_arguments_arrive_as_plain_words(backup_server: SshServer,
                                                 tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    with session(backup_server.endpoint()) as remote:
        for template in HOSTILE:
            word = template.format(canary=canary)
            result = remote.run("printf", "%s", word)
            assert result.stdout.decode() == word
        out = tmp_path / "out.txt"
        remote.run("printf", "%s", "$(id)", PIPE, "cat", TO, str(out))
        assert out.read_text() == "$(id)"
    assert not canary.exists()
    assert not os.path.exists("/tmp/pulih-x")


def test_a_failing_command_says_what_failed(backup_server: SshServer) -> None:
    with session(backup_server.endpoint()) as remote:
        with pytest.raises(CommandFailed) as error:
            remote.run("ls", "/tidak/ada")
        assert "ls" in error.value.message and "kode 2" in error.value.message
        assert remote.run("false", check=False).status == 1


def test_a_key_with_a_passphrase_is_opened_with_the_one_from_the_environment(
        backup_server: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    key = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "kunci-rahasia", "-f", str(key)],
                   check=True)
    authorized = backup_server.folder / "authorized_keys"
    original = authorized.read_text()
    authorized.write_text(original + (tmp_path / "locked.pub").read_text())
    try:
        monkeypatch.setenv("PULIH_SSH_KEY_PASSPHRASE", "tebakan-Xq9")
        with pytest.raises(AuthFailed) as error:
            connect(backup_server.endpoint(key=key))
        assert "tebakan-Xq9" not in error.value.message  # never echoed
        monkeypatch.setenv("PULIH_SSH_KEY_PASSPHRASE", "kunci-rahasia")
        with session(backup_server.endpoint(key=key)) as remote:
            assert remote.run("echo", "ok").text == "ok\n"
        # Written in .env instead, as .env.example documents: bootstrap hands it on.
        monkeypatch.delenv("PULIH_SSH_KEY_PASSPHRASE")
        env_file = tmp_path / "pulih.env"
        env_file.write_text("PULIH_SSH_KEY_PASSPHRASE=kunci-rahasia\n")
        bootstrap(load_settings(environ={}, env_file=env_file)).close()
        with session(backup_server.endpoint(key=key)) as remote:
            assert remote.run("echo", "ok").text == "ok\n"
    finally:
        authorized.write_text(original)


def test_connections_prefer_aes_gcm_and_rekey_at_openssh_limits(backup_server: SshServer) -> None:
    with session(backup_server.endpoint()) as remote:
        transport = remote.transport
        assert getattr(transport, "remote_cipher") == "aes128-gcm@openssh.com"  # noqa: B009
        assert transport.packetizer.REKEY_BYTES == 2**36
        assert transport.packetizer.REKEY_PACKETS == 2**31
        assert remote.run("echo", "ok").text == "ok\n"


def test_a_large_answer_is_never_cut_short_over_hundreds_of_commands(
        target_server: SshServer) -> None:
    """OpenSSH may send a command's exit status before its last output; an answer is
    whole only at end of file (once 1 run in 900 came back 196,097 lines of 200,000)."""
    whole = "".join(f"{n}\n" for n in range(1, 200_001))
    cut = 0
    with session(target_server.endpoint()) as remote:
        for _ in range(300):
            answer = remote.run("seq", "1", "200000").text
            cut += answer != whole
    assert cut == 0
