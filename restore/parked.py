"""SSH logins made while a team member is still typing the name of the system to restore,
kept for the restore that follows: the run's own two logins (a key exchange and a round
trip or two each) are then not time the agency waits for. A parked login is made exactly
as `restore.ssh.connect` makes any (host key checked against known_hosts first); one
that is not taken within PARK_FOR seconds is logged out."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from restore.ssh import Endpoint, Remote, connect

PARK_FOR = 300.0
PARK_MAX = 8  # logins held at once; further ones are made when their run starts
LOGIN_WAIT = 30.0  # for a parked login still under way when its run starts

_lock = threading.Lock()
_parked: dict[Endpoint, tuple[Future[Remote], float]] = {}
_logins = ThreadPoolExecutor(2, thread_name_prefix="pulih-parked-login")


def park(*endpoints: Endpoint) -> None:
    """Log in to these servers in the background (one login per server is kept)."""
    _expire()
    with _lock:
        for endpoint in endpoints:
            if endpoint in _parked or len(_parked) >= PARK_MAX:
                continue
            _parked[endpoint] = (_logins.submit(connect, endpoint), time.monotonic())
            expiry = threading.Timer(PARK_FOR, _expire)
            expiry.daemon = True
            expiry.start()


def take(endpoint: Endpoint) -> Remote:
    """The parked login to `endpoint` if there is a live one, else a new login (whose
    failure is the one reported: a parked login that failed is not trusted to say why
    the server cannot be reached now)."""
    with _lock:
        found = _parked.pop(endpoint, None)
    if found is not None:
        try:
            remote = found[0].result(timeout=LOGIN_WAIT)
        except Exception:
            remote = None
        if remote is not None and remote.alive() and \
                time.monotonic() - found[1] < PARK_FOR:
            return remote
        if remote is not None:
            remote.close()
    return connect(endpoint)


def parked() -> list[Endpoint]:
    with _lock:
        return list(_parked)


def close_parked() -> None:
    """Log every parked login out (the bot is stopping)."""
    _expire(everything=True)


def _expire(everything: bool = False) -> None:
    now = time.monotonic()
    with _lock:
        stale = [e for e, (_, at) in _parked.items() if everything or now - at >= PARK_FOR]
        gone = [_parked.pop(e)[0] for e in stale]
    for login in gone:
        login.add_done_callback(_log_out)


def _log_out(login: Future[Remote]) -> None:
    if login.exception() is None:
        login.result().close()
