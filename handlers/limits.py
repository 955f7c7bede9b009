"""How often one person is served and told: the flood gate's sliding window, and the
quiet time between two explanations to the same person in a group."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

PER_MINUTE = 30  # updates a person may send in any minute
WINDOW = 60.0


class FloodGate:
    """A sliding window of each person's updates, and when each was last told."""

    def __init__(self, per_minute: int = PER_MINUTE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.seen: dict[int, deque[float]] = {}
        self.told: dict[int, float] = {}

    def admit(self, user_id: int) -> tuple[bool, bool]:
        """(this update is served, the person should be told to slow down)."""
        now = self.clock()
        recent = self.seen.setdefault(user_id, deque())
        while recent and now - recent[0] >= WINDOW:
            recent.popleft()
        if len(recent) < self.per_minute:
            recent.append(now)
            return True, False
        tell = now - self.told.get(user_id, -WINDOW) >= WINDOW
        if tell:
            self.told[user_id] = now
        return False, tell


NOT_LINKED_QUIET = 3600.0  # seconds between two explanations to one person in a group


class Quiet:
    """Whether a person may be told something again, at most once per `every` seconds."""

    def __init__(self, every: float = NOT_LINKED_QUIET,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.told: dict[int, float] = {}

    def first_in_a_while(self, user_id: int) -> bool:
        now = self.clock()
        if now - self.told.get(user_id, -self.every) < self.every:
            return False
        self.told[user_id] = now
        return True
