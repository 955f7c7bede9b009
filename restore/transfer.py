"""Stream a backup file from the backup server to the target through the bot host.

The bytes are hashed as they pass; the staged copy is kept only if its SHA-256
equals the digest the step-4 check recorded.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, Protocol

import paramiko

from restore.errors import (
    BackupInvalid,
    Cancelled,
    ChecksumMismatch,
    ConnectionLost,
    NotEnoughSpace,
    RestoreError,
    disk_full,
)
from restore.inspect import Inspector, refusal
from restore.safety import TO, Op
from restore.ssh import Remote, close_quietly

CHUNK = 1 << 20
QUEUE_DEPTH = 16  # at most ~16 MiB in flight, whatever the backup's size
END = b""  # the reader's last item: the source's end of file


class Readable(Protocol):
    def recv(self, size: int) -> bytes: ...


def read_into(channel: Readable, out: queue.Queue[bytes | BaseException],
              stop: threading.Event, digest: Any) -> None:
    """Read `channel` to its end into `out` (an empty piece last, or the error), hashing
    what passes."""
    try:
        while not stop.is_set():
            data = channel.recv(CHUNK)
            # hashlib releases the GIL on large buffers: hashing here overlaps the sends.
            digest.update(data)
            out.put(data)
            if not data:
                return
    except BaseException as exc:  # handed to the writer, which raises it in its thread
        out.put(exc)


class Pace:
    """At most `limit` bytes a second on average since the start (0: no limit)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit = limit
        self.clock, self.sleep = clock, sleep
        self.started = clock()

    def wait(self, done: int) -> None:
        """Called after `done` bytes in all have gone: hold back until they were due."""
        if self.limit > 0:
            ahead = self.started + done / self.limit - self.clock()
            if ahead > 0:
                self.sleep(ahead)




def _write_failure(target: Remote, channel: paramiko.Channel,
                   path: str) -> RestoreError | None:
    """Why the `cat` writing the staged copy stopped, if it said: a full disk named with
    its host, folder and free space; another error in its own words."""
    said = b""
    with suppress(EOFError, OSError, paramiko.SSHException):
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not channel.exit_status_ready():
            time.sleep(0.01)
        while channel.recv_stderr_ready():
            said += channel.recv_stderr(1 << 16)
    text = said.decode("utf-8", "replace").strip()[-300:]
    if not text:
        return None
    folder = path.rsplit("/", 1)[0] or "/"
    if disk_full(text):
        free = "?"
        with suppress(RestoreError):
            answer = target.run("df", "-P", "-B1M", "--", folder, check=False, timeout=30)
            free = answer.text.splitlines()[-1].split()[3]
        return NotEnoughSpace(
            f"Disk penuh di {target.endpoint.label}:{folder} saat menyalin berkas backup "
            f"(tersisa {free} MiB). Kosongkan ruang di sana lalu ulangi; data live tidak "
            "disentuh.")
    return RestoreError(f"Penulisan salinan backup ke {target.endpoint.label}:{folder} "
                        f"gagal: {text}")


def stream_copy(source: Remote, source_path: str, target: Remote, target_path: str, *,
                size: int, expected_sha256: str,
                on_progress: Callable[[int], None] = lambda n: None,
                cancel: threading.Event | None = None,
                inspector: Inspector | None = None, limit: int = 0) -> str:
    """Copy `source_path` to `target_path`; return the SHA-256 of what passed through.
    An `inspector` reads the same bytes; what it finds refuses the file (BackupUnsafe).
    `limit`: bytes per second (0: none)."""
    cancel = cancel or threading.Event()
    pace = Pace(limit)
    digest = hashlib.sha256()
    done = 0
    inbound = source.open("cat", "--", source_path, timeout=120)
    outbound = target.open("cat", TO, target_path, timeout=120)
    chunks: queue.Queue[bytes | BaseException] = queue.Queue(QUEUE_DEPTH)
    stop = threading.Event()
    reader = threading.Thread(target=read_into, args=(inbound, chunks, stop, digest), daemon=True,
                              name="pulih-transfer-reader")
    reader.start()
    try:
        while True:
            if cancel.is_set():
                raise Cancelled("Restore dibatalkan saat pemindahan berkas; data live tidak "
                                "disentuh.")
            item = chunks.get(timeout=180)
            if isinstance(item, BaseException):
                raise ConnectionLost(f"Sambungan ke {source.endpoint.label} terputus saat "
                                     f"memindahkan berkas: {item}") from item
            if item == END:
                break
            outbound.sendall(item)
            if inspector is not None:
                inspector.feed(item)
            done += len(item)
            on_progress(done)
            pace.wait(done)
        outbound.shutdown_write()
        if inbound.recv_exit_status() != 0 or done != size:
            raise ConnectionLost(
                f"Pembacaan dari {source.endpoint.label} berhenti setelah {done} dari {size} "
                "bita; sambungan terputus atau berkas berubah.")
        if outbound.recv_exit_status() != 0:
            raise _write_failure(target, outbound, target_path) or RestoreError(
                f"Penulisan ke {target.endpoint.label} gagal (disk penuh atau izin ditolak).")
    except queue.Empty:
        raise ConnectionLost(f"Tidak ada data dari {source.endpoint.label} selama 3 menit; "
                             "pemindahan dihentikan.") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        # The writing end may have stopped on its own (a full disk) and closed the
        # channel under the send: its own words come before "connection lost".
        failure = _write_failure(target, outbound, target_path)
        if failure is not None:
            raise failure from exc
        raise ConnectionLost(f"Sambungan terputus saat memindahkan berkas: {exc}") from exc
    finally:
        stop.set()
        for channel in (inbound, outbound):
            close_quietly(channel)
        reader.join(5)
    seen = digest.hexdigest()
    if seen != expected_sha256:
        raise ChecksumMismatch(
            f"SHA-256 berkas yang dipindahkan ({seen}) tidak sama dengan hasil pemeriksaan "
            f"backup ({expected_sha256}): berkas berubah setelah diperiksa. Restore dihentikan; "
            "data live tidak disentuh.")
    if inspector is not None:
        found = inspector.findings()
        if found:
            raise refusal(source_path.rsplit("/", 1)[-1], found)
    return seen


def stream_inspect(source: Remote, command: Sequence[str | Op], name: str,
                   inspector: Inspector, *,
                   on_progress: Callable[[int], None] = lambda n: None) -> None:
    """Read what `command` prints on `source` through `inspector` (PostgreSQL's custom
    format, turned into the SQL it will run); BackupUnsafe for what it finds."""
    channel = source.open(*command, timeout=600)
    done = 0
    try:
        channel.shutdown_write()
        while True:
            data = channel.recv(CHUNK)
            if not data:
                break
            inspector.feed(data)
            done += len(data)
            on_progress(done)
        status = channel.recv_exit_status()
        error = b""
        while channel.recv_stderr_ready():
            error += channel.recv_stderr(CHUNK)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise ConnectionLost(f"Sambungan terputus saat membaca {name}: {exc}") from exc
    finally:
        close_quietly(channel)
    if status != 0:
        raise BackupInvalid(f"{name} tidak dapat dibaca di {source.endpoint.label} (kode "
                            f"{status}): {error.decode('utf-8', 'replace').strip()[-300:]}")
    found = inspector.findings()
    if found:
        raise refusal(name, found)
