"""The transfer runs in a child process: its failures come back as the same errors, its
result is the checked digest, and it never outlives the restore that started it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.bootstrap import Container
from bot.demo.lab.sshd import SshServer
from bot.services.restores.backups import system_access
from bot.services.restores.runs import expect_run
from restore import transfer_process
from restore.errors import Cancelled, ChecksumMismatch, ConnectionLost, RestoreError
from restore.mux import clear_stale
from restore.ssh import session
from restore.transfer_process import (
    ReadyChild,
    close_spare,
    copy_in_child,
    keep_spare,
    stream_in_child,
)


def _file(folder: Path, size: int) -> tuple[Path, str]:
    data = os.urandom(size)
    path = folder / "dump.sql.gz"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_a_copy_arrives_whole_with_progress(tmp_path: Path, backup_server: SshServer,
                                            target_server: SshServer) -> None:
    source, digest = _file(tmp_path, 3 * 1024 * 1024 + 17)
    seen: list[int] = []
    with session(backup_server.endpoint()) as backup, session(target_server.endpoint()) \
            as target:
        assert copy_in_child(backup, str(source), target, str(tmp_path / "staged"),
                             size=source.stat().st_size, expected_sha256=digest,
                             on_progress=seen.append) == digest
    assert (tmp_path / "staged").read_bytes() == source.read_bytes()
    assert seen[-1] == source.stat().st_size


def test_a_restore_package_in_the_working_folder_is_not_run(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The child is Pulih's own module, whatever folder the bot was started from."""
    canary = tmp_path / "KENA"
    planted = tmp_path / "kerja" / "restore"
    planted.mkdir(parents=True)
    (planted / "__init__.py").write_text("")
    (planted / "transfer_child.py").write_text(
        f"import pathlib\npathlib.Path({str(canary)!r}).write_text('jalan')\n")
    monkeypatch.chdir(planted.parent)
    source, digest = _file(tmp_path, 200_000)
    with session(backup_server.endpoint()) as backup, session(target_server.endpoint()) \
            as target:
        assert copy_in_child(backup, str(source), target, str(tmp_path / "staged"),
                             size=200_000, expected_sha256=digest) == digest
    assert not canary.exists()
    assert (tmp_path / "staged").read_bytes() == source.read_bytes()


def test_the_childs_failures_are_raised_as_the_same_errors(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer) -> None:
    source, digest = _file(tmp_path, 100_000)
    with session(backup_server.endpoint()) as backup, session(target_server.endpoint()) \
            as target:
        with pytest.raises(ChecksumMismatch, match="berkas berubah setelah diperiksa"):
            copy_in_child(backup, str(source), target, str(tmp_path / "a"), size=100_000,
                          expected_sha256="0" * 64)
        with pytest.raises(ConnectionLost, match="berhenti setelah 0 dari 5 bita"):
            copy_in_child(backup, str(tmp_path / "tidak-ada"), target, str(tmp_path / "b"),
                          size=5, expected_sha256=digest)
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(Cancelled, match="dibatalkan saat pemindahan"):
            copy_in_child(backup, str(source), target, str(tmp_path / "c"), size=100_000,
                          expected_sha256=digest, cancel=cancel)


def test_the_child_stops_when_its_parent_goes(tmp_path: Path,
                                              backup_server: SshServer) -> None:
    # A server that accepts the connection and never speaks: the child waits in its
    # SSH handshake, as it would on a stalled network, until its stdin closes.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    endpoint = {"name": "diam", "host": "127.0.0.1", "port": silent.getsockname()[1],
                "user": "root", "key_path": str(backup_server.user_key),
                "known_hosts": str(backup_server.known_hosts), "sudo": False}
    spec = {"source": endpoint, "target": endpoint, "source_path": "/x", "target_path": "/y",
            "size": 1, "sha256": "0" * 64}
    child = subprocess.Popen([sys.executable, "-m", "restore.transfer_child"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(spec) + "\n")
    child.stdin.flush()
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(1.5)  # still waiting for the silent server
    child.stdin.close()
    assert child.wait(10) == 3
    assert child.stdout.read() == ""
    child.stdout.close()
    silent.close()


def test_a_child_that_dies_without_answering_fails_the_copy_plainly(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    source, digest = _file(tmp_path, 1000)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # exits at once, says nothing
    with session(backup_server.endpoint()) as backup, session(target_server.endpoint()) \
            as target, pytest.raises(RestoreError) as failed:
        copy_in_child(backup, str(source), target, str(tmp_path / "d"), size=1000,
                      expected_sha256=digest)
    assert failed.value.message == ("Proses pemindahan berkas berhenti tanpa hasil (kode 1); "
                                    "rinciannya di log Pulih. Data live tidak disentuh.")
    assert "proses pemindahan berkas berhenti (kode 1)" in caplog.text
    assert not (tmp_path / "d").exists()


def _peer_ports(pid: int) -> set[int]:
    """The remote ports of the established TCP connections process `pid` holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed since it was listed (the process is starting)
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[9] in inodes and fields[3] == "01":  # ESTABLISHED
            ports.add(int(fields[2].split(":")[1], 16))
    return ports


def test_a_transfer_process_started_ahead_is_logged_in_before_its_work_arrives(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer) -> None:
    source, digest = _file(tmp_path, 2 * 1024 * 1024 + 5)
    arrived = tmp_path / "tiba"
    ready = ReadyChild(backup_server.endpoint(), target_server.endpoint(), "pulih-run-7-uji")
    try:
        pid = ready._process.pid if ready._process else 0
        wanted = {backup_server.port, target_server.port}
        deadline = time.monotonic() + 30
        while not wanted <= _peer_ports(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert wanted <= _peer_ports(pid)  # both logins made, no work given yet
        with session(backup_server.endpoint()) as backup, \
                session(target_server.endpoint()) as target:
            seen, _ = stream_in_child(backup, str(source), target,
                                      ["dd", f"of={arrived}", "status=none"],
                                      size=source.stat().st_size, expected_sha256=digest,
                                      tag="pulih-run-7-uji", ready=ready)
    finally:
        ready.close()
    assert seen == digest
    assert arrived.read_bytes() == source.read_bytes()


def test_a_transfer_process_started_ahead_and_not_needed_logs_out_and_ends(
        backup_server: SshServer, target_server: SshServer) -> None:
    ready = ReadyChild(backup_server.endpoint(), target_server.endpoint(), "pulih-run-8-uji")
    process = ready._process
    assert process is not None
    ready.close()
    assert process.returncode == 0  # ended by itself, not killed
    with pytest.raises(RestoreError, match="sudah dipakai"):
        ready.take()


def test_a_refused_login_of_a_transfer_process_started_ahead_fails_its_work_plainly(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer) -> None:
    """The target's host key is not the one pinned: the work it is given fails with that
    reason, and nothing arrives."""
    stranger = tmp_path / "known_hosts"
    stranger.write_text(backup_server.known_hosts.read_text().replace(
        f"[127.0.0.1]:{backup_server.port}", f"[127.0.0.1]:{target_server.port}"))
    wrong = dataclasses.replace(target_server.endpoint(), known_hosts=stranger)
    source, digest = _file(tmp_path, 1000)
    with ReadyChild(backup_server.endpoint(), wrong, "pulih-run-9-uji") as ready, \
            session(backup_server.endpoint()) as backup, \
            session(target_server.endpoint()) as target, \
            pytest.raises(RestoreError, match="BERBEDA dari yang tercatat") as failed:
        stream_in_child(backup, str(source), target, ["dd", f"of={tmp_path / 'x'}"],
                        size=1000, expected_sha256=digest, tag="pulih-run-9-uji",
                        ready=ready)
    assert failed.value.code == "host_key_changed"
    assert not (tmp_path / "x").exists()


def test_a_running_bot_keeps_one_transfer_process_started_for_the_next_restore(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The next restore takes the spare (another is started when it ends); what carries
    the bytes is decided by the bot's settings now, not those of when the spare started."""
    keep_spare()
    try:
        spare = transfer_process._spare
        assert spare is not None
        monkeypatch.setenv("PULIH_SSH_BYTES", "paramiko")
        source, digest = _file(tmp_path, 300_000)
        with ReadyChild(backup_server.endpoint(), target_server.endpoint(),
                        "pulih-run-10-uji") as ready:
            assert ready._process is spare[0]
            assert transfer_process._spare is None  # the next is started when this ends
            with session(backup_server.endpoint()) as backup, \
                    session(target_server.endpoint()) as target:
                seen, carrier = stream_in_child(
                    backup, str(source), target, ["dd", f"of={tmp_path / 'tiba'}"],
                    size=300_000, expected_sha256=digest, tag="pulih-run-10-uji", ready=ready)
        assert (seen, carrier) == (digest, "paramiko")
        assert (tmp_path / "tiba").read_bytes() == source.read_bytes()
        following = transfer_process._spare
        assert following is not None and following[0].pid != spare[0].pid
    finally:
        close_spare()
    assert transfer_process._spare is None
    assert following[0].returncode == 0  # told to end, and ended by itself


def _ssh_children(pid: int) -> dict[int, str]:
    """The `ssh` processes `pid` started, with their command lines."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            line = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and line.startswith("ssh "):
            found[int(entry)] = line
    return found


def test_the_ssh_process_carrying_the_bytes_uses_a_connection_made_before_its_work(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer) -> None:
    """No login while the team waits: the `ssh` that feeds the import holds no connection
    of its own; it is a session of a master that logged in when the run began."""
    source, digest = _file(tmp_path, 1024 * 1024)
    arrived, go = tmp_path / "tiba", tmp_path / "lanjut"
    ready = ReadyChild(backup_server.endpoint(), target_server.endpoint(), "pulih-run-11-uji")
    pid = ready._process.pid if ready._process else 0
    outcome: list[object] = []
    try:
        with session(backup_server.endpoint()) as backup, \
                session(target_server.endpoint()) as target:
            # The import holds on after reading everything, until the test has looked.
            command = ["sh", "-c", f"cat > {arrived}; while [ ! -e {go} ]; do sleep 0.05; done"]
            streaming = threading.Thread(target=lambda: outcome.append(stream_in_child(
                backup, str(source), target, command, size=source.stat().st_size,
                expected_sha256=digest, tag="pulih-run-11-uji", ready=ready)))
            streaming.start()
            deadline = time.monotonic() + 30
            while not (arrived.exists() and arrived.stat().st_size == source.stat().st_size) \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            carriers = _ssh_children(pid)
            masters = {p: line for p, line in carriers.items() if " -M " in line}
            feeding = {p: line for p, line in carriers.items() if " -M " not in line}
            assert len(masters) == 2
            assert {port for p in masters for port in _peer_ports(p)} == \
                {backup_server.port, target_server.port}
            assert feeding and all("ControlMaster=no" in line for line in feeding.values())
            assert all(not _peer_ports(p) for p in feeding)  # no TCP of its own
            folder = Path(next(iter(masters.values())).split("ControlPath=")[1].split()[0]).parent
            assert folder.stat().st_mode & 0o777 == 0o700
            go.touch()
            streaming.join(30)
    finally:
        ready.close()
    assert outcome == [(digest, "ssh")]
    assert arrived.read_bytes() == source.read_bytes()
    deadline = time.monotonic() + 15  # it logs out after answering, on its own time
    while _state(pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _ssh_children(pid) and not folder.exists()


def test_the_logged_in_connections_of_a_transfer_process_killed_outright_end_with_it(
        backup_server: SshServer, target_server: SshServer) -> None:
    ready = ReadyChild(backup_server.endpoint(), target_server.endpoint(), "pulih-run-12-uji")
    process = ready._process
    assert process is not None
    deadline = time.monotonic() + 30
    while len(masters := _ssh_children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(masters) == 2
    for pid in masters:  # logged in
        while not _peer_ports(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    folder = _socket_folder(masters)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{p}").exists() and "Z" not in _state(p) for p in masters) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in masters if Path(f"/proc/{p}").exists() and "Z" not in _state(p)]
    ready.close()
    # Killed outright, it could not remove its sockets' folder: the bot's start does,
    # and leaves a living transfer process's folder alone.
    assert folder.is_dir() and folder.name.startswith(f"{process.pid}-")
    living = ReadyChild(backup_server.endpoint(), target_server.endpoint(), "pulih-run-13-uji")
    try:
        assert living._process is not None
        deadline = time.monotonic() + 30
        while len(others := _ssh_children(living._process.pid)) < 2 and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        kept = _socket_folder(others)
        assert str(folder) in clear_stale()
        assert not folder.exists() and kept.is_dir()
    finally:
        living.close()


def _socket_folder(masters: dict[int, str]) -> Path:
    line = next(iter(masters.values()))
    return Path(line.split("ControlPath=")[1].split()[0]).parent


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "Z"


def test_the_run_takes_the_process_logged_in_while_its_confirmation_was_typed(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer) -> None:
    """Logged in before the run had a number; the run's tag names its commands all the
    same (what recovery finds and stops)."""
    data = os.urandom(500_000)
    digest = hashlib.sha256(data).hexdigest()
    source = tmp_path / "dump.sql.gz"
    os.mkfifo(source)  # `cat` on the backup server waits here until the test has looked
    arrived = tmp_path / "tiba"
    transfer_process.warm(backup_server.endpoint(), target_server.endpoint())
    try:
        warmed = transfer_process._warm[(backup_server.endpoint(), target_server.endpoint())][0]
        deadline = time.monotonic() + 30
        wanted = {backup_server.port, target_server.port}
        while not wanted <= _peer_ports(warmed.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert wanted <= _peer_ports(warmed.pid)
        outcome: list[object] = []
        with ReadyChild(backup_server.endpoint(), target_server.endpoint(),
                        "pulih-run-13-uji") as ready, \
                session(backup_server.endpoint()) as backup, \
                session(target_server.endpoint()) as target:
            assert ready._process is warmed
            streaming = threading.Thread(target=lambda: outcome.append(stream_in_child(
                backup, str(source), target, ["dd", f"of={arrived}", "status=none"],
                size=len(data), expected_sha256=digest, tag="pulih-run-13-uji",
                ready=ready)))
            streaming.start()
            tagged = ""
            while f"cat -- {source}" not in tagged and time.monotonic() < deadline:
                tagged = subprocess.run(["pgrep", "-af", "pulih-run-13-uj[i]"],
                                        capture_output=True, text=True).stdout
                time.sleep(0.05)
            assert f"cat -- {source}" in tagged  # the backup side's command, by the run's tag
            source.write_bytes(data)
            streaming.join(30)
        assert outcome == [(digest, "ssh")]
        assert arrived.read_bytes() == data
    finally:
        close_spare()


def test_a_process_logged_in_for_a_confirmation_never_typed_logs_out_by_itself(
        backup_server: SshServer, target_server: SshServer) -> None:
    transfer_process.warm(backup_server.endpoint(), target_server.endpoint(), idle=1.0)
    try:
        warmed = transfer_process._warm[(backup_server.endpoint(), target_server.endpoint())][0]
        deadline = time.monotonic() + 30
        while len(masters := _ssh_children(warmed.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert warmed.wait(30) == 0  # ended by itself, not killed
        assert not [p for p in masters if Path(f"/proc/{p}").exists() and "Z" not in _state(p)]
    finally:
        close_spare()
    assert not transfer_process._warm


def test_taps_on_many_cards_log_in_ahead_for_a_few_systems_only(
        backup_server: SshServer, target_server: SshServer) -> None:
    targets = [dataclasses.replace(target_server.endpoint(), name=f"sistem-{n}")
               for n in range(transfer_process.WARM_MAX + 2)]
    try:
        for target in targets:
            transfer_process.warm(backup_server.endpoint(), target)
            transfer_process.warm(backup_server.endpoint(), target)  # a double tap
        assert sorted(target.name for _, target in transfer_process._warm) == \
            [f"sistem-{n}" for n in range(transfer_process.WARM_MAX)]
        warmed = [process for process, _, _ in transfer_process._warm.values()]
    finally:
        close_spare()
    assert not transfer_process._warm
    assert all(process.returncode is not None for process in warmed)


def test_tapping_restore_logs_in_ahead_for_that_systems_servers_only_where_bytes_pass_here(
        container: Container) -> None:
    try:
        with container.sessions() as session:
            simpeg, portal = (system_access(session, code, container.settings.timezone)
                              for code in ("simpeg", "portal-pendidikan"))
        expect_run(container, "simpeg")
        expect_run(container, "portal-pendidikan")  # PostgreSQL: checked on the target
        expect_run(container, "tidak-terdaftar")
        assert list(transfer_process._warm) == [(simpeg.backup, simpeg.target)]
        assert (portal.backup, portal.target) not in transfer_process._warm
    finally:
        close_spare()
