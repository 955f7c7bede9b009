"""SSH access with strict host-key checking, timeouts everywhere, and quoted commands.

Everything here blocks: call it from a worker thread, never from the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from restore.errors import (
    AuthFailed,
    Cancelled,
    CommandFailed,
    ConnectionLost,
    HostKeyChanged,
    HostKeyUnknown,
    Unreachable,
)
from restore.safety import Op, shell

CONNECT_TIMEOUT = 15.0
COMMAND_TIMEOUT = 120.0
MAX_OUTPUT = 16 * 1024 * 1024
# paramiko keeps unread data in an array it trims from the front: a window much larger
# than its 2 MiB default makes every read copy the whole backlog (10x slower here).
WINDOW = 2 * 1024 * 1024
PASSPHRASE_ENV = "PULIH_SSH_KEY_PASSPHRASE"  # noqa: S105 - the name, not the secret


@dataclass(frozen=True)
class Endpoint:
    """Where and how to log in; secrets stay in the key file on the bot host."""

    name: str
    host: str
    port: int
    user: str
    key_path: Path
    known_hosts: Path
    sudo: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"


def fingerprint(key: paramiko.PKey) -> str:
    """The key's fingerprint as OpenSSH prints it (SHA256:...)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class _Transport(paramiko.Transport):
    """Prefers AES-GCM (one pass instead of cipher plus HMAC: ~10% faster transfers here);
    the other ciphers stay as fallbacks for servers without it."""

    _preferred_ciphers = (
        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
        *(c for c in paramiko.Transport._preferred_ciphers  # type: ignore[attr-defined]
          if "gcm" not in c),
    )


# paramiko starts a rekey itself after 512 MiB, and on session channels that rekey can
# stall until it times out mid-transfer (paramiko issue #822, seen here on 1 GiB copies).
# Rekey instead at OpenSSH's own default limit for 128-bit block ciphers (2**32 blocks,
# 64 GiB); the server may still ask for a rekey earlier, which paramiko handles.
REKEY_BYTES = 2**36
REKEY_PACKETS = 2**31


def _make_transport(sock: Any, *, gss_kex: bool = False, gss_deleg_creds: bool = True,
                    disabled_algorithms: Any = None) -> paramiko.Transport:
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        # Small packets (a command, its end of input) go out at once, not after the peer's
        # delayed acknowledgement: about 40 ms saved on every command.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transport = _Transport(sock, disabled_algorithms=disabled_algorithms)
    packetizer = transport.packetizer
    packetizer.REKEY_BYTES = packetizer.REKEY_BYTES_OVERFLOW_MAX = REKEY_BYTES
    packetizer.REKEY_PACKETS = packetizer.REKEY_PACKETS_OVERFLOW_MAX = REKEY_PACKETS
    return transport


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        raise HostKeyUnknown(
            f"Kunci host {self.endpoint.label} belum dikenal ({key.get_name()} "
            f"{fingerprint(key)}). Sambungan ditolak sebelum login; periksa sidik jari ini "
            f"dengan admin server lalu tambahkan ke {self.endpoint.known_hosts}."
        )


@dataclass(frozen=True)
class CommandResult:
    status: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    def error_text(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()[-500:]


class Remote:
    """One SSH connection; commands are given as quoted words, never as raw strings."""

    def __init__(self, endpoint: Endpoint, client: paramiko.SSHClient) -> None:
        self.endpoint = endpoint
        self.client = client
        # Set by a restore: a command still running when it is set is abandoned at once
        # (the restore then stops what it started on the server).
        self.cancel: threading.Event | None = None
        # Set by a restore: every command runs under a shell named after the run, so that
        # what it left running can be found and stopped after a crash (restore.engine).
        self.tag: str | None = None
        # An OpenSSH master's socket logged in to this endpoint (restore.mux): the `ssh`
        # processes that carry bytes (restore.pipe) start as its sessions.
        self.control: str | None = None
        self.commands = 0  # commands started on this connection (round trips, measured)

    @property
    def transport(self) -> paramiko.Transport:
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise ConnectionLost(f"Sambungan SSH ke {self.endpoint.label} terputus.")
        return transport

    def command_line(self, tokens: tuple[str | Op, ...], sudo: bool | None,
                     tag: str | None = None) -> str:
        line = shell(*tokens)
        tag = tag or self.tag
        if tag:
            # sshd gives each command a session of its own, led by this shell; the `exit`
            # keeps the shell (and its name) alive until the command is done.
            line = shell("sh", "-c", line + "\nexit $?", tag)
        use_sudo = self.endpoint.sudo if sudo is None else sudo
        if use_sudo:
            return shell("sudo", "-n", "--", "sh", "-c", line)
        return line

    def open(self, *tokens: str | Op, sudo: bool | None = None,
             timeout: float = COMMAND_TIMEOUT, tag: str | None = None) -> paramiko.Channel:
        """Start a command and return its channel (for streaming); `tag` names it instead
        of the connection's own tag."""
        self.commands += 1
        try:
            channel = self.transport.open_session(window_size=WINDOW)
            channel.settimeout(timeout)
            channel.exec_command(self.command_line(tokens, sudo, tag))
        except (paramiko.SSHException, OSError) as exc:
            raise ConnectionLost(
                f"Sambungan SSH ke {self.endpoint.label} terputus: {_reason(exc)}") from exc
        return channel

    def run(self, *tokens: str | Op, sudo: bool | None = None, input: bytes | None = None,
            timeout: float = COMMAND_TIMEOUT, check: bool = True,
            on_output: Callable[[bytes], None] | None = None,
            tag: str | None = None) -> CommandResult:
        """Run a command to completion; CommandFailed on a non-zero exit when `check`. With
        `on_output`, its output is handed over as it comes (any length), not kept. `tag`
        names it instead of the connection's own tag."""
        channel = self.open(*tokens, sudo=sudo, timeout=timeout, tag=tag)
        deadline = time.monotonic() + timeout
        out, err = bytearray(), bytearray()
        try:
            if input is not None:
                channel.sendall(input)
            channel.shutdown_write()
            while True:
                if self.cancel is not None and self.cancel.is_set():
                    raise Cancelled("Restore dibatalkan saat perintah di "
                                    f"{self.endpoint.label} berjalan.")
                idle = True
                if channel.recv_ready():
                    if on_output is None:
                        out += channel.recv(1 << 20)
                    else:
                        on_output(channel.recv(1 << 20))
                    idle = False
                if channel.recv_stderr_ready():
                    err += channel.recv_stderr(1 << 20)
                    idle = False
                if len(out) > MAX_OUTPUT or len(err) > MAX_OUTPUT:
                    raise CommandFailed(f"Keluaran perintah di {self.endpoint.label} terlalu "
                                        "besar.")
                if idle:
                    # sshd may send the exit status before the last output: the answer is
                    # whole only at end of file, which it sends once the output is drained.
                    if channel.eof_received and not channel.recv_ready() and \
                            not channel.recv_stderr_ready():
                        break
                    if channel.closed or not self.transport.is_active():
                        break
                    if time.monotonic() > deadline:
                        raise CommandFailed(f"Perintah di {self.endpoint.label} melewati batas "
                                            f"waktu {int(timeout)} detik.")
                    time.sleep(0.002)
            while not channel.exit_status_ready() and not channel.closed and \
                    self.transport.is_active() and time.monotonic() < deadline:
                time.sleep(0.002)  # the exit status follows the end of file
            if not channel.exit_status_ready():
                raise ConnectionLost(f"Sambungan SSH ke {self.endpoint.label} terputus saat "
                                     "perintah berjalan.")
            status = channel.recv_exit_status()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise ConnectionLost(
                f"Sambungan SSH ke {self.endpoint.label} terputus: {_reason(exc)}") from exc
        finally:
            close_quietly(channel)
        result = CommandResult(status, bytes(out), bytes(err))
        if check and status != 0:
            raise CommandFailed(f"Perintah {tokens[0]!s} di {self.endpoint.label} gagal "
                                f"(kode {status}): {result.error_text() or '-'}")
        return result

    def alive(self) -> bool:
        transport = self.client.get_transport()
        return transport is not None and transport.is_active()

    def close(self) -> None:
        self.client.close()


def close_quietly(channel: paramiko.Channel) -> None:
    # Closing a channel whose connection just died raises EOFError; that must not hide
    # the error that says why the work stopped.
    with suppress(EOFError, OSError, paramiko.SSHException):
        channel.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        return "sambungan ditolak (tidak ada layanan SSH di port itu)"
    text = str(exc) or type(exc).__name__
    return text[:200]


def load_key(path: Path) -> paramiko.PKey:
    """The private key; a passphrase, if any, comes from PULIH_SSH_KEY_PASSPHRASE."""
    passphrase = os.environ.get(PASSPHRASE_ENV) or None
    try:
        # The stubs say str; cryptography underneath insists on bytes.
        secret = passphrase.encode() if passphrase else None
        return paramiko.PKey.from_path(path, secret)  # type: ignore[arg-type]
    except (OSError, paramiko.SSHException, ValueError, TypeError) as exc:
        raise AuthFailed(f"Kunci SSH {path} tidak dapat dibaca (kata sandi kunci salah atau "
                         f"berkas rusak): {type(exc).__name__}") from None


def connect(endpoint: Endpoint, timeout: float = CONNECT_TIMEOUT) -> Remote:
    """Log in with the endpoint's key after checking its host key against known_hosts."""
    key = load_key(endpoint.key_path)
    client = paramiko.SSHClient()
    try:
        client.load_host_keys(str(endpoint.known_hosts))
    except OSError as exc:
        raise HostKeyUnknown(f"Berkas known_hosts {endpoint.known_hosts} tidak dapat dibaca: "
                             f"{exc.strerror}") from None
    client.set_missing_host_key_policy(_RefuseUnknown(endpoint))
    try:
        client.connect(endpoint.host, port=endpoint.port, username=endpoint.user, pkey=key,
                       timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                       channel_timeout=timeout, allow_agent=False, look_for_keys=False,
                       transport_factory=_make_transport)
    except HostKeyUnknown:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise HostKeyChanged(
            f"Kunci host {endpoint.label} BERBEDA dari yang tercatat: terlihat "
            f"{exc.key.get_name()} {fingerprint(exc.key)}, tercatat "
            f"{fingerprint(exc.expected_key)}. Sambungan ditolak sebelum login; kemungkinan "
            "server diganti atau ada penyadapan."
        ) from None
    except paramiko.AuthenticationException:
        client.close()
        raise AuthFailed(f"Login SSH ke {endpoint.label} sebagai {endpoint.user!r} ditolak: "
                         "kunci tidak diterima server.") from None
    except TimeoutError as exc:
        client.close()
        raise Unreachable(f"Server {endpoint.label} tidak menjawab dalam {int(timeout)} "
                          "detik.") from exc
    except (paramiko.SSHException, OSError) as exc:
        client.close()
        raise Unreachable(f"Server {endpoint.label} tidak dapat dihubungi: "
                          f"{_reason(exc)}") from None
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(15)
    return Remote(endpoint, client)


@contextmanager
def session(endpoint: Endpoint) -> Iterator[Remote]:
    """A connection that is closed however the block ends."""
    remote = connect(endpoint)
    try:
        yield remote
    finally:
        remote.close()
