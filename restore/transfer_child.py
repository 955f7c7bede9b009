"""`python -m restore.transfer_child`: one backup file copied in a process of its own.

Streaming through paramiko is Python work that would hold the bot's interpreter lock for
the whole transfer and slow every chat answer; here it holds its own. The parent writes
one JSON line (both endpoints, paths, size, checked digest) and keeps stdin open: EOF
(the parent cancelled, or died) ends the copy at once. The child answers on stdout with
lines `P <bytes>` while copying, then `OK <sha256>` or `E <code> <message as JSON>`.
Given a `command` instead of a target, it reads what that command prints on the source
through the SQL inspector, copying nothing (PostgreSQL's custom format, as SQL). Given
`tree_to`, it writes there the digests the archive reader took of each entry (records
`<digest>\0<path bytes>\0`). A first line with `ready` (and the endpoints only) has it log
in at once and wait for a second line with the work; EOF instead ends it quietly."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, TextIO

from restore.errors import RestoreError
from restore.inspect import inspector_for
from restore.inspect_sql import SqlInspector
from restore.mux import Masters
from restore.pipe import openssh_usable
from restore.safety import Op
from restore.ssh import Endpoint, Remote, connect
from restore.stream import stop_import, stream_into
from restore.transfer import stream_copy, stream_inspect
from restore.tree import raw_name

EVERY = 0.2  # seconds between progress lines
# Where paramiko carries the bytes, their packet work is Python's, and this process yields
# the CPU to the bot's chat when both want it. Where `ssh` processes carry them (the
# default, restore.pipe), this process only hashes and inspects at the pipe's pace: held
# back, it would hold back the pipe (measured: 0.9x an OpenSSH pipeline instead of 1.0x,
# with no difference in the chat's latency; benchmarks/restore_throughput.py, bot_latency.py).
NICE = 10


def endpoint_from(spec: dict[str, Any]) -> Endpoint:
    return Endpoint(spec["name"], spec["host"], int(spec["port"]), spec["user"],
                    Path(spec["key_path"]), Path(spec["known_hosts"]), bool(spec["sudo"]))


# Run before the child exits because its parent is gone (cancelled, or dead): stop the
# import a stream feeds while its input is still open.
_ON_GONE: list[Callable[[], None]] = []
# Set once the answer is given: the parent's EOF then lets the child close what it
# opened (its logged-in connections among them) instead of ending it on the spot.
_ANSWERED = threading.Event()


def _watch_parent(stdin: TextIO) -> None:
    stdin.read()  # returns at EOF only
    if _ANSWERED.is_set():
        return
    for last_word in _ON_GONE:
        with suppress(Exception):
            last_word()
    os._exit(3)


def _words(spec: list[Any]) -> list[str | Op]:
    return [w if isinstance(w, str) else Op(w["op"]) for w in spec]


def _log_in(spec: dict[str, Any]) -> tuple[Remote | None, Remote | None, RestoreError | None]:
    """Log in to the source and (if named) the target at once; the first failure, if any,
    instead of raising, with whatever connection was made (for closing)."""
    remotes: dict[str, Remote] = {}
    failures: list[RestoreError] = []

    def one(role: str) -> None:
        try:
            remotes[role] = connect(endpoint_from(spec[role]))
            remotes[role].tag = spec.get("tag")
        except RestoreError as exc:
            failures.append(exc)

    others = [threading.Thread(target=one, args=("target",), name="pulih-child-login")] \
        if spec.get("target") else []
    for thread in others:
        thread.start()
    one("source")
    for thread in others:
        thread.join()
    return remotes.get("source"), remotes.get("target"), failures[0] if failures else None


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    line = stdin.readline()
    if not line:
        return 0
    spec = json.loads(line)
    source = target = failure = None
    masters: Masters | None = None
    if spec.get("ready"):
        # Started ahead of its work (transfer_process.ReadyChild): log in now, then wait;
        # the `ssh` processes that may carry the bytes get their connections made too.
        if openssh_usable() and spec.get("target"):
            masters = Masters(endpoint_from(spec["source"]), endpoint_from(spec["target"]))
            # Ended by its parent before answering: the masters go with this process
            # (their input closes); their sockets' folder is removed here.
            _ON_GONE.append(masters.forget)
        source, target, failure = _log_in(spec)
        # Logged in ahead of a confirmation that may never come: ends by itself.
        expiry = threading.Timer(float(spec.get("idle") or 0), _expire,
                                 args=(source, target, masters))
        expiry.daemon = True
        if spec.get("idle"):
            expiry.start()
        line = stdin.readline()
        expiry.cancel()
        if not line:  # the run ended before its transfer
            _close(source, target)
            if masters is not None:
                masters.close()
            return 0
        spec = {**spec, **json.loads(line)}
        for remote in (source, target):
            if remote is not None:  # the run's tag, known only now for one logged in ahead
                remote.tag = spec.get("tag")
    openssh = spec.get("openssh")
    if openssh is None:
        openssh = openssh_usable()
    if masters is not None and openssh and failure is None:
        masters.lend(source, target)
    if not (spec.get("into") and openssh):
        os.nice(NICE)
    threading.Thread(target=_watch_parent, args=(stdin,), daemon=True).start()
    last = [0.0]

    def progress(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= EVERY or done == spec.get("size"):
            last[0] = now
            stdout.write(f"P {done}\n")
            stdout.flush()

    try:
        if not spec.get("ready"):
            source, target, failure = _log_in(spec)
        if failure is not None:
            raise failure
        assert source is not None
        if spec.get("command"):
            command = _words(spec["command"])
            inspector = (inspector_for(spec["recipe"], spec["name"]) if spec.get("raw")
                         else None) or SqlInspector(spec["recipe"])
            stream_inspect(source, command, spec["name"], inspector, on_progress=progress)
            _write_tree(spec.get("tree_to"), inspector)
            stdout.write("OK -\n")
            stdout.flush()
            return 0
        assert target is not None
        reader = inspector_for(spec.get("recipe") or "", spec["source_path"])
        if spec.get("into"):
            tag, into = spec["tag"], target
            _ON_GONE.append(lambda: stop_import(into, tag))
            seen = stream_into(source, spec["source_path"], target, _words(spec["into"]),
                               size=spec["size"], expected_sha256=spec["sha256"],
                               inspector=reader, tag=tag, on_progress=progress,
                               limit=int(spec.get("limit") or 0),
                               failed=spec.get("failed") or "Impor gagal",
                               openssh=openssh)
            _write_tree(spec.get("tree_to"), reader)
            _ANSWERED.set()
            stdout.write(f"OK {seen} {'ssh' if openssh else 'paramiko'}\n")
            stdout.flush()
            return 0
        seen = stream_copy(source, spec["source_path"], target, spec["target_path"],
                           size=spec["size"], expected_sha256=spec["sha256"],
                           on_progress=progress, inspector=reader,
                           limit=int(spec.get("limit") or 0))
        _write_tree(spec.get("tree_to"), reader)
    except RestoreError as exc:
        _ANSWERED.set()
        stdout.write(f"E {exc.code} {json.dumps(exc.message)}\n")
        stdout.flush()
        return 1
    finally:
        _close(source, target)
        if masters is not None:
            masters.close()
    _ANSWERED.set()
    stdout.write(f"OK {seen}\n")
    stdout.flush()
    return 0


def _expire(source: Remote | None, target: Remote | None, masters: Masters | None) -> None:
    """Never given work within its time: log out and end (the parent offers it for less)."""
    _close(source, target)
    if masters is not None:
        masters.close()
    os._exit(0)


def _close(*remotes: Remote | None) -> None:
    for remote in remotes:
        if remote is not None:
            remote.close()


def _write_tree(path: str | None, inspector: object) -> None:
    tree = getattr(inspector, "tree", None)
    if path is None or tree is None:
        return
    with open(path, "wb") as out:
        for name, digest in tree.items():
            out.write(digest.encode("ascii") + b"\0" + raw_name(name) + b"\0")


if __name__ == "__main__":
    sys.exit(main())
