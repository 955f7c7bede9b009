"""A small DBOS application with the shape of a restore (three steps: begin, the long
work, finish), run by tests/integration/test_durable_engine.py in processes of its own
(DBOS holds one instance per process), to check the engine's promises before Pulih builds
its mass restore on them (issue 19): the queue's limits, and a workflow's recovery after
its process is killed.

    python -m tests.support.durable_probe limits|start|recover FOLDER

Every step appends one JSON line to FOLDER/events.jsonl (one write each, O_APPEND), which
the test reads: what ran, where, and when."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from dbos import DBOS, DBOSConfig, SetEnqueueOptions, SetWorkflowID

QUEUE = "restores"
GLOBAL_LIMIT = 3  # restores at once, across every process
PER_SERVER = 2  # restores at once from one backup server (the queue's partition)
FOLDER = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(".")


def note(kind: str, key: str, server: str) -> None:
    line = json.dumps({"kind": kind, "key": key, "server": server, "pid": os.getpid(),
                       "at": time.time()}) + "\n"
    fd = os.open(FOLDER / "events.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@DBOS.step()
def begin(key: str, server: str) -> None:
    note("begin", key, server)


@DBOS.step()
def work(key: str, server: str, hold: float) -> None:
    """The transfer and import: lasts `hold` seconds, or until FOLDER/gate exists."""
    note("work-start", key, server)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline and not (FOLDER / "gate").exists():
        time.sleep(0.02)
    note("work-end", key, server)


@DBOS.step()
def finish(key: str, server: str) -> None:
    note("finish", key, server)


@DBOS.workflow()
def restore_like(key: str, server: str, hold: float) -> str:
    begin(key, server)
    work(key, server, hold)
    finish(key, server)
    return key


def launch() -> None:
    config: DBOSConfig = {"name": "pulih-probe",
                          "system_database_url": f"sqlite:///{FOLDER / 'dbos.sqlite3'}"}
    DBOS(config=config)
    DBOS.launch()
    DBOS.register_queue(QUEUE, global_concurrency=GLOBAL_LIMIT,
                        partition_concurrency=PER_SERVER, polling_interval_sec=0.05)


def enqueue(keys: list[tuple[str, str]], hold: float) -> list[str]:
    queue = DBOS.retrieve_queue(QUEUE)
    assert queue is not None
    for key, server in keys:
        with SetWorkflowID(f"restore-{key}"), SetEnqueueOptions(queue_partition_key=server):
            queue.enqueue(restore_like, key, server, hold)
    return [f"restore-{key}" for key, _ in keys]


def results(ids: list[str]) -> list[str]:
    return [DBOS.retrieve_workflow(i).get_result() for i in ids]


def main() -> int:
    mode = sys.argv[1]
    launch()
    if mode == "limits":  # 12 restores from 3 backup servers, at once
        ids = enqueue([(f"s{n:02d}", f"backup-{n % 3}") for n in range(12)], hold=0.3)
        print(json.dumps(results(ids)), flush=True)
    elif mode == "start":  # two restores that hold until killed
        enqueue([("a", "backup-0"), ("b", "backup-1")], hold=3600)
        print("READY", flush=True)
        time.sleep(3600)
    elif mode == "recover":  # the next start: what was running is taken up again
        (FOLDER / "gate").touch()
        print(json.dumps(results(["restore-a", "restore-b"])), flush=True)
    DBOS.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
