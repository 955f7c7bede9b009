"""Step 5 without a staging copy: the backup file flows from the backup server through
this host straight into the import that fills the shadow on the target (`gzip -dc |
mysql ... shadow`, `psql`, `tar -x`), hashed and inspected on the way.

What the import may run is decided here, before the bytes leave: each piece is read by
the inspector first, and the import's input ends (so that it may run its last statement)
only after the whole file was read, its size and SHA-256 match the step-4 check and the
inspector has judged its end. On any failure the import is killed while its input is
still open, so a statement cut off mid-way is never run; the shadow is then dropped by
the engine, as for any failure before the swap.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress

import paramiko

from restore.errors import (
    Cancelled,
    ChecksumMismatch,
    CommandFailed,
    ConnectionLost,
    NotEnoughSpace,
    RestoreError,
)
from restore.inspect import Inspector, refusal
from restore.processes import IMPORT_SUFFIX, stop_run
from restore.safety import Op
from restore.ssh import Remote, close_quietly
from restore.transfer import CHUNK, END, QUEUE_DEPTH, Pace, read_into

IMPORT_TIMEOUT = 6 * 3600.0  # an import may pause this long (an index built) mid-stream
KEEP_SAID = 64 * 1024  # the end of what the import says, for its error message
_FULL = ("No space left on device", "Disk quota exceeded", "Errcode: 28", "is full",
         "could not extend file")


class _Said:
    """Reads what the import prints while it runs (a full window would stall it, and with
    it the stream); keeps the end of its error output."""

    def __init__(self, channel: paramiko.Channel) -> None:
        self.channel = channel
        self.err = bytearray()
        self.thread = threading.Thread(target=self._drain, daemon=True,
                                       name="pulih-stream-said")
        self.thread.start()

    def _drain(self) -> None:
        with suppress(EOFError, OSError, paramiko.SSHException):
            while not (self.channel.eof_received and not self.channel.recv_ready()
                       and not self.channel.recv_stderr_ready()):
                idle = True
                if self.channel.recv_ready():
                    self.channel.recv(CHUNK)
                    idle = False
                if self.channel.recv_stderr_ready():
                    self.err += self.channel.recv_stderr(CHUNK)
                    del self.err[:-KEEP_SAID]
                    idle = False
                if self.channel.closed:
                    return
                if idle:
                    time.sleep(0.01)

    def text(self) -> str:
        self.thread.join(2)
        return bytes(self.err).decode("utf-8", "replace").strip()[-500:]


def stream_into(source: Remote, source_path: str, target: Remote,
                command: Sequence[str | Op], *, size: int, expected_sha256: str,
                inspector: Inspector | None, tag: str,
                on_progress: Callable[[int], None] = lambda n: None,
                cancel: threading.Event | None = None, limit: int = 0,
                failed: str = "Impor ke salinan sementara gagal") -> str:
    """Pour `source_path` into `command` on `target` (which reads it on its input);
    return the SHA-256 of what passed. `tag` is the run's; the import runs under the
    run's tag with IMPORT_SUFFIX, so that it alone can be stopped. `limit`: bytes per
    second. `failed` begins the message of an import that fails."""
    cancel = cancel or threading.Event()
    digest = hashlib.sha256()
    done = 0
    pace = Pace(limit)
    inbound = source.open("cat", "--", source_path, timeout=120)
    outbound = target.open(*command, timeout=IMPORT_TIMEOUT, tag=tag + IMPORT_SUFFIX)
    said = _Said(outbound)
    chunks: queue.Queue[bytes | BaseException] = queue.Queue(QUEUE_DEPTH)
    stop = threading.Event()
    reader = threading.Thread(target=read_into, args=(inbound, chunks, stop, digest), daemon=True,
                              name="pulih-stream-reader")
    reader.start()
    ended = False
    try:
        while True:
            if cancel.is_set():
                raise Cancelled("Restore dibatalkan saat data dialirkan ke salinan sementara; "
                                "data live tidak disentuh.")
            item = chunks.get(timeout=180)
            if isinstance(item, BaseException):
                raise ConnectionLost(f"Sambungan ke {source.endpoint.label} terputus saat "
                                     f"mengalirkan berkas: {item}") from item
            if item == END:
                break
            if inspector is not None:
                inspector.feed(item)
                found = inspector.so_far()
                if found:
                    raise refusal(source_path.rsplit("/", 1)[-1], found)
            _send(outbound, item, said, target, failed)
            done += len(item)
            on_progress(done)
            pace.wait(done)
        if inbound.recv_exit_status() != 0 or done != size:
            raise ConnectionLost(
                f"Pembacaan dari {source.endpoint.label} berhenti setelah {done} dari {size} "
                "bita; sambungan terputus atau berkas berubah.")
        _judge_whole(digest.hexdigest(), expected_sha256, inspector, source_path)
        # Only now may the import see the end of its input, and run what it holds last.
        ended = True
        outbound.shutdown_write()
        status = outbound.recv_exit_status()
        if status != 0:
            raise _import_failure(target, said.text(), failed)
    except queue.Empty:
        raise ConnectionLost(f"Tidak ada data dari {source.endpoint.label} selama 3 menit; "
                             "pengaliran dihentikan.") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise ConnectionLost(f"Sambungan terputus saat mengalirkan berkas: {exc}") from exc
    finally:
        stop.set()
        if not ended:
            stop_import(target, tag)
        for channel in (inbound, outbound):
            close_quietly(channel)
        reader.join(5)
    return digest.hexdigest()


def stop_import(target: Remote, tag: str) -> None:
    """Kill the run's import before its input ends (a statement cut off is never run)."""
    own, target.tag = target.tag, None  # the stopping is not the run's own work
    try:
        with suppress(RestoreError):
            stop_run(target, tag + IMPORT_SUFFIX, wait=10)
    finally:
        target.tag = own


def _send(channel: paramiko.Channel, data: bytes, said: _Said, target: Remote,
          failed: str) -> None:
    try:
        channel.sendall(data)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        # The import may have stopped on its own (an error, a full disk), closing its
        # input under the send: its own words come before "connection lost".
        deadline = time.monotonic() + 2
        while not channel.exit_status_ready() and time.monotonic() < deadline:
            time.sleep(0.02)
        if channel.exit_status_ready():
            raise _import_failure(target, said.text(), failed) from exc
        raise


def _judge_whole(seen: str, expected: str, inspector: Inspector | None,
                 source_path: str) -> None:
    if seen != expected:
        raise ChecksumMismatch(
            f"SHA-256 berkas yang dialirkan ({seen}) tidak sama dengan hasil pemeriksaan "
            f"backup ({expected}): berkas berubah setelah diperiksa. Impor dihentikan sebelum "
            "selesai dan salinan sementara dibuang; data live tidak disentuh.")
    if inspector is not None:
        found = inspector.findings()
        if found:
            raise refusal(source_path.rsplit("/", 1)[-1], found)


def _import_failure(target: Remote, text: str, failed: str) -> RestoreError:
    if any(words in text for words in _FULL):
        return NotEnoughSpace(
            f"Disk penuh di {target.endpoint.label} saat mengisi salinan sementara: {text}. "
            "Kosongkan ruang di sana lalu ulangi; data live tidak disentuh.")
    return CommandFailed(f"{failed}: {text or '-'}")
