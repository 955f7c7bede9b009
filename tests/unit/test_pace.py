"""The bandwidth cap: a transfer never runs ahead of the inventory's max_rate."""

from __future__ import annotations

from restore.transfer import Pace


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_capped_transfer_takes_as_long_as_its_bytes_at_the_cap_however_fast_the_link() -> None:
    time = FakeTime()
    pace = Pace(32 << 20, clock=time.clock, sleep=time.sleep)
    done = 0
    for _ in range(256):  # 256 MiB in 1 MiB pieces, each sent instantly
        done += 1 << 20
        time.now += 0.001
        pace.wait(done)
    assert abs((time.now - 100.0) - 8.0) < 1e-6  # 256 MiB at 32 MiB/s: 8 seconds
    assert all(s > 0 for s in time.slept)


def test_a_link_slower_than_the_cap_is_never_held_back() -> None:
    time = FakeTime()
    pace = Pace(32 << 20, clock=time.clock, sleep=time.sleep)
    done = 0
    for _ in range(64):
        done += 1 << 20
        time.now += 0.05  # 20 MiB/s: under the cap
        pace.wait(done)
    assert time.slept == []


def test_no_cap_means_no_waiting() -> None:
    time = FakeTime()
    pace = Pace(0, clock=time.clock, sleep=time.sleep)
    pace.wait(1 << 40)
    assert time.slept == []
