"""A backup server's restores spread over as many one-at-a-time partitions as it may run
at once, the least loaded first."""

from __future__ import annotations

import pytest

from bot.durable.partitions import choose_slot, server_of, slot_key


def test_restores_fill_a_servers_slots_evenly_by_the_work_in_them() -> None:
    load: dict[str, float] = {}
    chosen = []
    for size in (5, 1, 1, 1, 1):
        key = choose_slot("backup-1", 3, load)
        load[key] = load.get(key, 0) + size
        chosen.append(key)
    assert chosen == ["backup-1#0", "backup-1#1", "backup-1#2", "backup-1#1", "backup-1#2"]


def test_a_server_allowed_one_restore_at_a_time_has_one_partition() -> None:
    load = {"backup-0#0": 9.0, "backup-0#1": 0.0}  # a slot left from a higher limit
    assert {choose_slot("backup-0", 1, load) for _ in range(3)} == {"backup-0#0"}


def test_a_server_name_with_the_separator_is_still_read_back() -> None:
    assert server_of(slot_key("dc#2-backup", 1)) == "dc#2-backup"


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        choose_slot("backup-0", 0, {})
