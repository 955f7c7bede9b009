"""The transfer phase, run by `restore.transfer_child` in a process of its own, watched
from the restore's worker thread: progress passed on, "Batal" honoured within half a
second, the child's failure raised here as the same error."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from restore import errors
from restore.errors import Cancelled, RestoreError
from restore.pipe import openssh_usable
from restore.safety import Op
from restore.ssh import Endpoint, Remote
from restore.tree import Tree, name_of

log = logging.getLogger("pulih.transfer")
UNUSED_WAIT = 5.0  # seconds a child started ahead and never used may take to log out
_ERRORS: dict[str, type[RestoreError]] = {
    cls.code: cls for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, RestoreError)}


def _lines(stream: IO[str], out: queue.Queue[str | None]) -> None:
    for line in stream:
        out.put(line.rstrip("\n"))
    out.put(None)


def copy_in_child(source: Remote, source_path: str, target: Remote, target_path: str, *,
                  size: int, expected_sha256: str,
                  on_progress: Callable[[int], None] = lambda n: None,
                  cancel: threading.Event | None = None, recipe: str | None = None,
                  tree: Tree | None = None, tag: str | None = None, limit: int = 0) -> str:
    """As `restore.transfer.stream_copy`, in a child process logged in afresh with the
    same endpoints (host keys checked again); return the SHA-256 it saw. With `recipe`,
    the child also inspects the file as that recipe will read it; an archive's entries
    and their digests then fill `tree`. `tag` names the commands it runs (`Remote.tag`).
    `limit`: bytes per second (0: none)."""
    spec = {"source": _endpoint(source.endpoint), "source_path": source_path,
            "target": _endpoint(target.endpoint), "target_path": target_path, "size": size,
            "sha256": expected_sha256, "recipe": recipe, "tag": tag, "limit": limit}
    return _in_child(spec, on_progress, cancel or threading.Event(), tree)


def stream_in_child(source: Remote, source_path: str, target: Remote,
                    command: Sequence[str | Op], *, size: int, expected_sha256: str, tag: str,
                    on_progress: Callable[[int], None] = lambda n: None,
                    cancel: threading.Event | None = None, recipe: str | None = None,
                    tree: Tree | None = None, limit: int = 0, failed: str = "",
                    openssh: bool | None = None,
                    ready: ReadyChild | None = None) -> tuple[str, str]:
    """As `restore.stream.stream_into` (the file poured into `command` on the target), in
    a child process logged in afresh with the same endpoints; return the SHA-256 it saw
    and what carried the bytes ("ssh" processes or "paramiko").
    The child inspects the file as `recipe` reads it; an archive's entries and their
    digests fill `tree`. `limit`: bytes per second (0: none). `openssh`: whether `ssh`
    processes carry the bytes (None: when they can; see restore.pipe). `ready`: a child
    started ahead for these two endpoints (see ReadyChild), used instead of a new one."""
    spec = {"source": _endpoint(source.endpoint), "source_path": source_path,
            "target": _endpoint(target.endpoint), "into": _words(command), "size": size,
            "sha256": expected_sha256, "recipe": recipe, "tag": tag, "limit": limit,
            "failed": failed,
            "openssh": openssh_usable() if openssh is None else openssh}
    seen, _, carrier = _in_child(spec, on_progress, cancel or threading.Event(),
                                 tree, ready).partition(" ")
    return seen, carrier


class ReadyChild:
    """A transfer process started before its work is known, so that Python's start and
    both logins happen while the restore's pre-flight does: the first line it reads names
    the two servers (it logs in to both at once), the second its work. Closed unused, it
    logs out and ends; `take` hands it to the one transfer it serves."""

    def __init__(self, source: Endpoint, target: Endpoint, tag: str) -> None:
        self._stderr: IO[str]
        self._process: subprocess.Popen[str] | None
        self._replace = False
        warmed = _take_warm(source, target)
        if warmed is not None:  # logged in while the team member typed the confirmation
            self._process, self._stderr = warmed
            return
        # A spare taken is replaced when this run ends, not while it needs the CPU.
        self._process, self._stderr, self._replace = _greet(source, target, tag)

    def take(self) -> tuple[subprocess.Popen[str], IO[str]]:
        if self._process is None:
            raise RestoreError("Proses pemindahan berkas sudah dipakai.")
        process, self._process = self._process, None
        return process, self._stderr

    def close(self) -> None:
        """End it if it was never used (the run stopped before its transfer)."""
        process, self._process = self._process, None
        if process is not None:
            _end_unused(process)
        self._stderr.close()
        if self._replace:
            self._replace = False
            keep_spare()

    def __enter__(self) -> ReadyChild:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def inspect_in_child(remote: Remote, command: Sequence[str | Op], name: str, recipe: str, *,
                     on_progress: Callable[[int], None] = lambda n: None,
                     cancel: threading.Event | None = None, raw: bool = False,
                     tree: Tree | None = None) -> None:
    """Read what `command` prints on `remote` in a child process: SQL of `recipe`, or
    with `raw` the file `name` itself as that recipe reads it (archive, gzip); BackupUnsafe
    (raised here) when it holds what a backup of one system should not. An archive's
    entries and their digests fill `tree`."""
    spec = {"source": _endpoint(remote.endpoint), "command": _words(command), "name": name,
            "recipe": recipe, "raw": raw, "tag": remote.tag}
    _in_child(spec, on_progress, cancel or threading.Event(), tree)


def _in_child(spec: dict[str, Any], on_progress: Callable[[int], None],
              cancel: threading.Event, tree: Tree | None = None,
              ready: ReadyChild | None = None) -> str:
    if tree is None:
        return _run_child(spec, on_progress, cancel, ready)
    with tempfile.TemporaryDirectory(prefix="pulih-tree-") as folder:
        path = Path(folder) / "tree"
        answer = _run_child({**spec, "tree_to": str(path)}, on_progress, cancel, ready)
        if path.exists():
            fields = path.read_bytes().split(b"\0")
            tree.update((name_of(raw), digest.decode("ascii"))
                        for digest, raw in zip(fields[0::2], fields[1::2], strict=False))
        return answer


_spare_lock = threading.Lock()
_spare: tuple[subprocess.Popen[str], IO[str]] | None = None
WARM_FOR = 300.0  # seconds a process logged in ahead of a confirmation is offered
IDLE_END = WARM_FOR + 60  # ... and after which, never given work, it ends by itself
WARM_MAX = 4  # logged in ahead at once: taps on many cards do not start a process each
_warm: dict[tuple[Endpoint, Endpoint], tuple[subprocess.Popen[str], IO[str], float]] = {}


def _greet(source: Endpoint, target: Endpoint, tag: str,
           idle: float = 0.0) -> tuple[subprocess.Popen[str], IO[str], bool]:
    """The spare (or a new transfer process), told to log in to both servers now (and,
    with `idle`, to end by itself after that many seconds without work); and whether it
    was the spare."""
    spare = _take_spare()
    stderr: IO[str]
    if spare is None:
        stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - handed on
        process = _spawn(stderr)
    else:
        process, stderr = spare
    assert process.stdin is not None
    hello = {"ready": True, "source": _endpoint(source), "target": _endpoint(target),
             "tag": tag, "idle": idle}
    with contextlib.suppress(BrokenPipeError):  # a child that died says so on use
        process.stdin.write(json.dumps(hello) + "\n")
        process.stdin.flush()
    return process, stderr, spare is not None


def warm(source: Endpoint, target: Endpoint, idle: float = IDLE_END) -> None:
    """A restore between these servers is about to be confirmed (the team member is
    typing the system's name): log a transfer process in to both now, so that the run
    finds its logins made. One per pair of servers, WARM_MAX at most (others log in when
    their run starts); offered for WARM_FOR seconds, and ended by itself after `idle`
    seconds without work."""
    _expire_warm()
    with _spare_lock:
        known = _warm.get((source, target))
        if known is not None and known[0].poll() is not None:  # ended: logged in no more
            _warm.pop((source, target))
            known[1].close()
            known = None
        if known is not None or len(_warm) >= WARM_MAX:
            return
    process, stderr, was_spare = _greet(source, target, "", idle)
    with _spare_lock:
        twin = _warm.setdefault((source, target), (process, stderr, time.monotonic()))
    if twin[0] is not process:  # a second tap logged in for the same pair meanwhile
        _end_unused(process)
        stderr.close()
    if was_spare:
        keep_spare()


def _take_warm(source: Endpoint,
               target: Endpoint) -> tuple[subprocess.Popen[str], IO[str]] | None:
    _expire_warm()
    with _spare_lock:
        found = _warm.pop((source, target), None)
    if found is None:
        return None
    if found[0].poll() is not None:
        found[1].close()
        return None
    return found[0], found[1]


def _expire_warm(everything: bool = False) -> None:
    now = time.monotonic()
    with _spare_lock:
        old = [key for key, (_, _, at) in _warm.items() if everything or now - at > WARM_FOR]
        ended = [_warm.pop(key) for key in old]
    for process, stderr, _ in ended:
        _end_unused(process)
        stderr.close()


def keep_spare() -> None:
    """Keep one transfer process started (Python up, its modules loaded) for this
    process's next restore, which then only has to log in (the bot, while it runs)."""
    global _spare
    with _spare_lock:
        if _spare is not None and _spare[0].poll() is None:
            return
        stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - lives on
        _spare = (_spawn(stderr), stderr)


def close_spare() -> None:
    """End the spare process, if any, and those logged in ahead (the bot stopping)."""
    _expire_warm(everything=True)
    taken = _take_spare(alive_only=False)
    if taken is not None:
        process, stderr = taken
        _end_unused(process)
        stderr.close()


def _take_spare(alive_only: bool = True) -> tuple[subprocess.Popen[str], IO[str]] | None:
    global _spare
    with _spare_lock:
        taken, _spare = _spare, None
    if taken is not None and alive_only and taken[0].poll() is not None:
        _end_unused(taken[0])
        taken[1].close()
        return None
    return taken


def _end_unused(process: subprocess.Popen[str]) -> None:
    """End a transfer process given no work: EOF, and it logs out (if it had logged in)
    and ends; one that hangs (logging in to a silent server) is killed."""
    with contextlib.suppress(BrokenPipeError):
        assert process.stdin is not None
        process.stdin.close()
    try:
        process.wait(UNUSED_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _spawn(stderr: IO[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-P", "-m", "restore.transfer_child"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                            text=True, encoding="utf-8", env=_child_env())


def _run_child(spec: dict[str, Any], on_progress: Callable[[int], None],
               cancel: threading.Event, ready: ReadyChild | None = None) -> str:
    if ready is not None:
        started, stderr_file = ready.take()
        spec = {k: v for k, v in spec.items() if k not in ("source", "target")}
    else:
        stderr_file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - below
        started = _spawn(stderr_file)
    child = started
    answer: str | None = None
    with stderr_file as stderr:
        assert child.stdin is not None and child.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_lines, args=(child.stdout, lines), daemon=True,
                                  name="pulih-transfer-child")
        reader.start()
        try:
            with contextlib.suppress(BrokenPipeError):  # a child that died says so below
                child.stdin.write(json.dumps(spec) + "\n")
                child.stdin.flush()
            answer = _follow(lines, on_progress, cancel, "into" in spec)
        finally:
            with contextlib.suppress(BrokenPipeError):
                child.stdin.close()  # EOF: the child stops if it has not already
            if answer is not None and answer.startswith("OK "):
                # Its work is done and answered; it only logs out now (0.1 s), which
                # nobody need wait for.
                threading.Thread(target=_reap, args=(child, reader), daemon=True,
                                 name="pulih-transfer-reap").start()
            else:
                _reap(child, reader)  # a stream's child stops the import before it exits
        if answer is None:
            stderr.seek(0)
            log.error("proses pemindahan berkas berhenti (kode %s): %s", child.returncode,
                      stderr.read()[-2000:])
            raise RestoreError(f"Proses pemindahan berkas berhenti tanpa hasil (kode "
                               f"{child.returncode}); rinciannya di log Pulih. Data live "
                               "tidak disentuh.")
    kind, _, rest = answer.partition(" ")
    if kind == "OK":
        return rest
    code, _, message = rest.partition(" ")
    raise _ERRORS.get(code, RestoreError)(json.loads(message))


def _reap(child: subprocess.Popen[str], reader: threading.Thread) -> None:
    """Wait for a transfer process told to end (EOF), killing one that hangs."""
    try:
        child.wait(30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    reader.join(5)
    if child.stdout is not None:
        child.stdout.close()


def _follow(lines: queue.Queue[str | None], on_progress: Callable[[int], None],
            cancel: threading.Event, streaming: bool) -> str | None:
    """Pass progress on until the child's answer (None: it ended without one)."""
    while True:
        if cancel.is_set():
            raise Cancelled(
                "Restore dibatalkan saat data dialirkan ke salinan sementara (impornya "
                "dihentikan); data live tidak disentuh." if streaming else
                "Restore dibatalkan saat pemindahan berkas; data live tidak disentuh.")
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            return None
        if line.startswith("P "):
            on_progress(int(line[2:]))
        elif line.startswith(("OK ", "E ")):
            return line


def _child_env() -> dict[str, str]:
    """This process's environment, with this copy of Pulih first on the import path."""
    here = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": here + (os.pathsep + path if path else "")}


def _words(command: Sequence[str | Op]) -> list[str | dict[str, str]]:
    return [w if isinstance(w, str) else {"op": w.text} for w in command]


def _endpoint(endpoint: Endpoint) -> dict[str, object]:
    fields = dataclasses.asdict(endpoint)
    return {**fields, "key_path": str(fields["key_path"]),
            "known_hosts": str(fields["known_hosts"])}
