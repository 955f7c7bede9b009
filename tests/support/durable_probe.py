"""A small DBOS application with the shape of a restore (three steps: begin, the long
work, finish), run by tests/integration/test_durable_engine.py in processes of its own
(DBOS holds one instance per process), to check the engine's promises before Pulih builds
its mass restore on them (issue 19): the queue's limits, and a workflow's recovery after
its process is killed.

    python -m tests.support.durable_probe limits|start|recover FOLDER [EXECUTOR]
    python -m tests.support.durable_probe slots|serve FOLDER EXECUTOR
    python -m tests.support.durable_probe takeover FOLDER EXECUTOR DEAD_EXECUTOR

Every step appends one JSON line to FOLDER/events.jsonl (one write each, O_APPEND), which
the test reads: what ran, where, and when."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from dbos import DBOS, DBOSConfig, SetEnqueueOptions, SetWorkflowID

from bot.durable.partitions import choose_slot

QUEUE = "restores"
GLOBAL_LIMIT = 3  # restores at once, across every process
PER_SERVER = 2  # restores at once from one backup server (the queue's partition)
# Servers whose limits differ, kept by one-at-a-time partitions (bot.durable.partitions).
SLOTTED = "slotted"
SERVER_LIMITS = {"backup-0": 1, "backup-1": 3}
SLOTTED_RESTORES = {"backup-0": 5, "backup-1": 9}
FOLDER = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(".")
EXECUTOR = sys.argv[3] if len(sys.argv) > 3 else None


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
    # A shared PostgreSQL when the test gives one (several workers), else SQLite.
    url = os.environ.get("PULIH_PROBE_DATABASE") or f"sqlite:///{FOLDER / 'dbos.sqlite3'}"
    config: DBOSConfig = {"name": "pulih-probe", "system_database_url": url}
    if EXECUTOR:
        config["executor_id"] = EXECUTOR
    DBOS(config=config)
    DBOS.launch()
    DBOS.register_queue(QUEUE, global_concurrency=GLOBAL_LIMIT,
                        partition_concurrency=PER_SERVER, polling_interval_sec=0.05)
    DBOS.register_queue(SLOTTED, global_concurrency=GLOBAL_LIMIT, partition_concurrency=1,
                        polling_interval_sec=0.05)


def enqueue_slotted(hold: float) -> list[str]:
    queue = DBOS.retrieve_queue(SLOTTED)
    assert queue is not None
    load: dict[str, float] = {}
    ids = []
    for server, count in SLOTTED_RESTORES.items():
        for n in range(count):
            key = choose_slot(server, SERVER_LIMITS[server], load)
            load[key] = load.get(key, 0) + 1
            with SetWorkflowID(f"slotted-{server}-{n}"), \
                    SetEnqueueOptions(queue_partition_key=key):
                queue.enqueue(restore_like, f"{server}-{n}", server, hold)
            ids.append(f"slotted-{server}-{n}")
    return ids


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
    elif mode == "slots":  # servers with different limits, two workers taking the work
        while not (FOLDER / "serving").exists():
            time.sleep(0.02)
        print(json.dumps(results(enqueue_slotted(hold=0.3))), flush=True)
        (FOLDER / "done").touch()
    elif mode == "serve":  # a second worker: takes work from the queues until told
        (FOLDER / "serving").touch()
        while not (FOLDER / "done").exists():
            time.sleep(0.05)
    elif mode == "takeover":  # another worker takes up what a dead one was running
        (FOLDER / "gate").touch()
        DBOS._recover_pending_workflows([sys.argv[4]])
        print(json.dumps(results(["restore-a", "restore-b"])), flush=True)
    DBOS.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
