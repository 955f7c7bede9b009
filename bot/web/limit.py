"""How many checks one client address may make a minute (the `limits` package's moving
window, in this process's memory): codes cannot be guessed at speed."""

from __future__ import annotations

import ipaddress
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class ChecksPerMinute:
    def __init__(self, per_minute: int) -> None:
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def allow(self, address: str) -> bool:
        """Count one check from `address`; False when it is one too many."""
        return self._limiter.hit(self._item, _client(address))

    def retry_after(self, address: str) -> int:
        """Seconds until `address` may check again."""
        reset = self._limiter.get_window_stats(self._item, _client(address)).reset_time
        return max(1, int(reset - time.time()) + 1)


def _client(address: str) -> str:
    """An IPv6 client counts by its /64 (one home or phone holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
