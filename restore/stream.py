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
    disk_full,
)
from restore.inspect import Inspector, refusal
from restore.pipe import Outbound, open_in, open_out, openssh_usable
from restore.processes import IMPORT_SUFFIX, stop_run
from restore.safety import Op
from restore.ssh import Remote
from restore.transfer import QUEUE_DEPTH, Pace, read_into

SSH_FAILED = 255  # the `ssh` client's own failure, not the command's
START_WAIT = 60.0  # for the import to say it runs, before any byte is sent
IMPORT_TIMEOUT = 6 * 3600.0  # an import may pause this long (an index built) mid-stream


def stream_into(source: Remote, source_path: str, target: Remote,
                command: Sequence[str | Op], *, size: int, expected_sha256: str,
                inspector: Inspector | None, tag: str,
                on_progress: Callable[[int], None] = lambda n: None,
                cancel: threading.Event | None = None, limit: int = 0,
                failed: str = "Impor ke salinan sementara gagal",
                openssh: bool | None = None) -> str:
    """Pour `source_path` into `command` on `target` (which reads it on its input);
    return the SHA-256 of what passed. `tag` is the run's; the import runs under the
    run's tag with IMPORT_SUFFIX, so that it alone can be stopped. `limit`: bytes per
    second. `failed` begins the message of an import that fails. `openssh`: carry the
    bytes in `ssh` processes (restore.pipe); None: when they can."""
    cancel = cancel or threading.Event()
    if openssh is None:
        openssh = openssh_usable()
    digest = hashlib.sha256()
    done = 0
    pace = Pace(limit)
    inbound = open_in(source, ("cat", "--", source_path), openssh)
    try:
        outbound = open_out(target, command, tag + IMPORT_SUFFIX, openssh, IMPORT_TIMEOUT)
    except BaseException:
        inbound.close()
        raise
    if not outbound.started(START_WAIT):
        status = outbound.exited(1)
        if status is None:  # stopped while its input is open, as on any failure
            stop_import(target, tag)
        inbound.close()
        outbound.close()
        if status is None:
            raise ConnectionLost(f"Impor di {target.endpoint.label} tidak mulai berjalan dalam "
                                 f"{int(START_WAIT)} detik; pengaliran tidak dimulai.")
        raise _import_failure(target, outbound.said(), failed)
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
            if not item:
                break
            if inspector is not None:
                inspector.feed(item)
                found = inspector.so_far()
                if found:
                    raise refusal(source_path.rsplit("/", 1)[-1], found)
            _send(outbound, item, target, failed)
            done += len(item)
            on_progress(done)
            pace.wait(done)
        if inbound.status() != 0:
            raise ConnectionLost(
                f"Pembacaan dari {source.endpoint.label} berhenti setelah {done} dari {size} "
                "bita; sambungan terputus.")
        if done != size:
            raise ChecksumMismatch(
                f"Ukuran berkas yang dialirkan ({done} bita) tidak sama dengan hasil "
                f"pemeriksaan backup ({size} bita): berkas berubah setelah diperiksa. Impor "
                "dihentikan sebelum selesai dan salinan sementara dibuang; data live tidak "
                "disentuh.")
        _judge_whole(digest.hexdigest(), expected_sha256, inspector, source_path)
        # Only now may the import see the end of its input, and run what it holds last.
        ended = True
        status = outbound.finish()
        if openssh and status == SSH_FAILED:
            raise ConnectionLost(f"Sambungan ke {target.endpoint.label} terputus saat "
                                 f"mengalirkan berkas: {outbound.said() or '-'}")
        if status != 0:
            raise _import_failure(target, outbound.said(), failed)
    except queue.Empty:
        raise ConnectionLost(f"Tidak ada data dari {source.endpoint.label} selama 3 menit; "
                             "pengaliran dihentikan.") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise ConnectionLost(f"Sambungan terputus saat mengalirkan berkas: {exc}") from exc
    finally:
        stop.set()
        if not ended:
            stop_import(target, tag)
        outbound.close()
        inbound.close()
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


def _send(outbound: Outbound, data: bytes, target: Remote, failed: str) -> None:
    try:
        outbound.sendall(data)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        # The import may have stopped on its own (an error, a full disk), closing its
        # input under the send: its own words come before "connection lost".
        if outbound.exited(2) is not None:
            raise _import_failure(target, outbound.said(), failed) from exc
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
    if disk_full(text):
        return NotEnoughSpace(
            f"Disk penuh di {target.endpoint.label} saat mengisi salinan sementara: {text}. "
            "Kosongkan ruang di sana lalu ulangi; data live tidak disentuh.")
    return CommandFailed(f"{failed}: {text or '-'}")
