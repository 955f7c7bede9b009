"""The two ends a stream's bytes pass between: what the backup server's `cat` prints, and
what the import on the target reads. Each end is a paramiko channel, or an OpenSSH
client process (`ssh`) that carries the bytes while paramiko stays the control path
(logins checked, commands started and stopped, answers read).

Why both: paramiko moves every SSH packet through Python under the interpreter lock, for
both connections at once; measured here (benchmarks/restore_throughput.py) that caps a
through-host copy well below an OpenSSH pipeline through the same host. An `ssh` process
per end does the packet work in C, in its own process, and this host only hashes,
inspects and hands on large pieces. It is used when the `ssh` client is installed and
the key needs no passphrase (OpenSSH would have to ask for it); otherwise paramiko.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from typing import IO, Protocol

import paramiko

from restore.safety import AND, TO_ERR, Op
from restore.ssh import PASSPHRASE_ENV, Endpoint, Remote, close_quietly

BYTES_ENV = "PULIH_SSH_BYTES"  # "paramiko": never OpenSSH processes (see Settings)
CHUNK = 1 << 20
STARTED = "PULIH-IMPOR-BERJALAN"  # the first line a command fed by a stream says
KEEP_SAID = 64 * 1024  # the end of what a command says on its error output
_PIPE_SIZE = 1 << 20  # a pipe this large hands over a MiB per read, not 64 KiB
# Ciphers by measured speed on x86 with AES instructions (AES-GCM first), then OpenSSH's.
CIPHERS = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com," \
          "aes128-ctr,aes256-ctr"


class Inbound(Protocol):
    """Where the bytes come from."""

    def recv(self, size: int) -> bytes: ...
    def status(self) -> int: ...
    def close(self) -> None: ...


class Outbound(Protocol):
    """Where the bytes go: a command's input."""

    def sendall(self, data: bytes) -> None: ...

    def started(self, wait: float) -> bool:
        """Whether the command said it runs (STARTED on its error output) within `wait`
        seconds; False also when it ended before saying so."""
        ...

    def finish(self) -> int:
        """End the input; the command's exit status, once it has ended."""
        ...

    def exited(self, wait: float) -> int | None:
        """The exit status if the command ends within `wait` seconds, else None."""
        ...

    def said(self) -> str: ...
    def close(self) -> None: ...


def openssh_usable() -> bool:
    """Whether OpenSSH can carry the bytes without asking anything (no passphrase), and
    the office has not chosen paramiko (PULIH_SSH_BYTES)."""
    if os.environ.get(BYTES_ENV, "").lower() == "paramiko":
        return False
    return shutil.which("ssh") is not None and not os.environ.get(PASSPHRASE_ENV)


def endpoint_options(e: Endpoint) -> list[str]:
    """The `ssh` options that reach `e` exactly as `Remote.open` would: the same key,
    strict checking against the same known_hosts, nothing else read (no user or system
    config, no agent, no other key), never a question asked."""
    return ["-F", "/dev/null", "-T", "-x", "-a",
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={e.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "CheckHostIP=no", "-o", "UpdateHostKeys=no",
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-i", str(e.key_path),
            "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=4", "-o", "LogLevel=ERROR", "-c", CIPHERS,
            "-p", str(e.port), "-l", e.user]


def ssh_argv(remote: Remote, tokens: Sequence[str | Op], tag: str | None = None) -> list[str]:
    """The `ssh` command that runs `tokens` on `remote` as `Remote.open` would; through
    the remote's logged-in master connection (restore.mux) when it has one."""
    shared = ["-o", "ControlMaster=no", "-o", f"ControlPath={remote.control}"] \
        if remote.control else []
    return ["ssh", *endpoint_options(remote.endpoint), *shared, "--", remote.endpoint.host,
            remote.command_line(tuple(tokens), None, tag)]


def _widen(fd: int) -> None:
    with suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)


class _Tail:
    """Reads an error stream to its end in a thread, keeping its last KEEP_SAID bytes."""

    def __init__(self, read: IO[bytes] | None = None) -> None:
        self.data = bytearray()
        self.seen_start = threading.Event()
        self.ended = threading.Event()
        self.thread: threading.Thread | None = None
        if read is not None:
            self.thread = threading.Thread(target=self._drain, args=(read,), daemon=True,
                                           name="pulih-pipe-said")
            self.thread.start()

    def add(self, data: bytes) -> None:
        self.data += data
        if not self.seen_start.is_set() and STARTED.encode() + b"\n" in self.data:
            self.data = self.data.replace(STARTED.encode() + b"\n", b"", 1)
            self.seen_start.set()
        del self.data[:-KEEP_SAID]

    def _drain(self, read: IO[bytes]) -> None:
        try:
            with suppress(OSError, ValueError):
                while True:
                    data = read.read1(CHUNK)  # type: ignore[attr-defined]
                    if not data:
                        return
                    self.add(data)
        finally:
            self.ended.set()

    def started(self, wait: float) -> bool:
        deadline = time.monotonic() + wait
        while not self.ended.is_set() and time.monotonic() < deadline:
            if self.seen_start.wait(0.05):
                return True
        return self.seen_start.is_set()

    def text(self) -> str:
        if self.thread is not None:
            self.thread.join(2)
        return bytes(self.data).decode("utf-8", "replace").strip()[-500:]


class ChannelIn:
    def __init__(self, channel: paramiko.Channel) -> None:
        self.channel = channel

    def recv(self, size: int) -> bytes:
        return self.channel.recv(size)

    def status(self) -> int:
        return self.channel.recv_exit_status()

    def close(self) -> None:
        close_quietly(self.channel)


class ChannelOut:
    """A command's input on a paramiko channel; what it prints is read all along (a full
    window would stall it, and the stream with it)."""

    def __init__(self, channel: paramiko.Channel) -> None:
        self.channel = channel
        self.tail = _Tail()
        self.thread = threading.Thread(target=self._drain, daemon=True, name="pulih-pipe-out")
        self.thread.start()

    def _drain(self) -> None:
        c = self.channel
        try:
            with suppress(EOFError, OSError, paramiko.SSHException):
                while not (c.eof_received and not c.recv_ready()
                           and not c.recv_stderr_ready()):
                    idle = True
                    if c.recv_ready():
                        c.recv(CHUNK)
                        idle = False
                    if c.recv_stderr_ready():
                        self.tail.add(c.recv_stderr(CHUNK))
                        idle = False
                    if c.closed:
                        return
                    if idle:
                        time.sleep(0.01)
        finally:
            self.tail.ended.set()

    def sendall(self, data: bytes) -> None:
        self.channel.sendall(data)

    def started(self, wait: float) -> bool:
        return self.tail.started(wait)

    def finish(self) -> int:
        self.channel.shutdown_write()
        return self.channel.recv_exit_status()

    def exited(self, wait: float) -> int | None:
        deadline = time.monotonic() + wait
        while not self.channel.exit_status_ready() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.channel.recv_exit_status() if self.channel.exit_status_ready() else None

    def said(self) -> str:
        self.thread.join(2)
        return self.tail.text()

    def close(self) -> None:
        close_quietly(self.channel)


class ProcessIn:
    """What a command prints, read from the `ssh` process that runs it."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.process.stdout is not None
        self.fd = self.process.stdout.fileno()
        _widen(self.fd)
        self.tail = _Tail(self.process.stderr)

    def recv(self, size: int) -> bytes:
        return os.read(self.fd, size)

    def status(self) -> int:
        return self.process.wait()

    def close(self) -> None:
        _end(self.process)


class ProcessOut:
    """A command's input, written to the `ssh` process that runs it."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.process.stdin is not None
        self.fd = self.process.stdin.fileno()
        _widen(self.fd)
        self.tail = _Tail(self.process.stderr)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def started(self, wait: float) -> bool:
        return self.tail.started(wait)

    def finish(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait()

    def exited(self, wait: float) -> int | None:
        try:
            return self.process.wait(wait)
        except subprocess.TimeoutExpired:
            return None

    def said(self) -> str:
        return self.tail.text()

    def close(self) -> None:
        _end(self.process)


def _end(process: subprocess.Popen[bytes]) -> None:
    """Stop an `ssh` process that is still running (its remote command is stopped by the
    caller first, over the control connection) and reap it."""
    if process.poll() is None:
        process.kill()
    with suppress(subprocess.TimeoutExpired):
        process.wait(10)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with suppress(OSError):
                stream.close()


def open_in(remote: Remote, tokens: Sequence[str | Op], openssh: bool) -> Inbound:
    if openssh:
        return ProcessIn(ssh_argv(remote, tokens))
    return ChannelIn(remote.open(*tokens, timeout=120))


def open_out(remote: Remote, tokens: Sequence[str | Op], tag: str, openssh: bool,
             timeout: float) -> Outbound:
    """`tokens` started on `remote`, saying STARTED first: the stream waits for it, so
    that the command is known to run (and can be stopped) before any byte reaches it."""
    said = ("echo", STARTED, TO_ERR, AND, *tokens)
    if openssh:
        return ProcessOut(ssh_argv(remote, said, tag))
    return ChannelOut(remote.open(*said, timeout=timeout, tag=tag))
