"""How a backup server's limit of restores at once (its `max_restores` in the inventory)
is kept by the engine's queue. DBOS limits every partition of a queue to the same number
at once, while servers may differ; so each backup server gets as many partitions of one
restore at a time as its limit ("slots"), and a new restore goes to the least loaded of
its server's slots. The queue's own limit in all (N) and its claim of each partition,
atomic across every worker, do the rest."""

from __future__ import annotations

from collections.abc import Mapping

SEPARATOR = "#"


def slot_key(server: str, slot: int) -> str:
    return f"{server}{SEPARATOR}{slot}"


def server_of(key: str) -> str:
    return key.rpartition(SEPARATOR)[0]


def choose_slot(server: str, limit: int, load: Mapping[str, float]) -> str:
    """The partition for one more restore from `server`, which may run `limit` at once:
    the slot with the least work queued or running in it (`load`, by partition key: bytes
    or a count), the lowest-numbered on a tie."""
    if limit < 1:
        raise ValueError(limit)
    return min((slot_key(server, n) for n in range(limit)),
               key=lambda key: (load.get(key, 0), int(key.rpartition(SEPARATOR)[2])))
