"""Finding and stopping what a run started on a server: every command of a run carries
its tag (the name of the shell that leads its session), so that stopping one run never
touches another run, of this Pulih or another."""

from __future__ import annotations

import secrets
import time

from restore.recipes import RunNames
from restore.ssh import Remote

_ERE_SPECIAL = set(".[]()*+?{}|^$\\")
# The streaming import runs under its own tag (the run's, with this suffix), so that the
# transfer can stop the import alone, before its input ends; stopping the run stops it too.
IMPORT_SUFFIX = "-import"
LOCK_SUFFIX = "-lock"  # the run's hold on its live system: not work to stop
FREEZE_ROUNDS = 10


def run_tag(run_id: int) -> str:
    """A name for a run's commands, unique to the run: its number and a random part."""
    return f"pulih-run-{run_id}-{secrets.token_hex(6)}"


def _bracketed(name: str, after: str) -> str:
    """An extended regular expression for `name` followed by `after`, its last letter in
    brackets so that it never matches the command line that carries it."""
    return "".join(f"\\{c}" if c in _ERE_SPECIAL else c for c in name[:-1]) + \
        f"[{name[-1]}]{after}"


def legacy_pattern(names: RunNames, staging_dir: str) -> str:
    """For a run recorded before runs were tagged: the processes naming its shadow or its
    staging folder (which, before runs had a UUID, a run of another Pulih with the same
    number could share)."""
    return "|".join((_bracketed(names.shadow_db, "( |$)"),
                     _bracketed(f".pulih-sh-{names.key}", "( |$|/)"),
                     _bracketed(staging_dir, "/")))


def stop_run(remote: Remote, tag: str, pattern: str = "", wait: float = 20) -> int:
    """Stop every process of the run still on `remote` and wait until they are gone: each
    command it started (the shell named `tag`) with its whole session (pipes, sudo,
    children), or, for an untagged run, what `pattern` finds. Returns how many processes
    were stopped."""
    pattern = _bracketed(tag, f"({IMPORT_SUFFIX})?$") if tag else pattern
    leaders = remote.run("pgrep", "-f", "--", pattern, check=False).text.split()
    if not leaders:
        return 0
    sessions = ",".join(leaders)
    # Everything is frozen before anything is killed. Killed one by one, a process that
    # feeds a pipe (`gzip -dc | mysql`), or the shell whose end makes sshd close the
    # command's input, would end a reader's input before the reader is killed, and a
    # database client runs what it holds when its input ends. A process forked while
    # the first freeze went round is caught by the next: frozen, nothing forks again.
    members: set[str] = set()
    for _ in range(FREEZE_ROUNDS):
        remote.run("pkill", "-STOP", "-s", sessions, check=False)
        remote.run("pkill", "-STOP", "-f", "--", pattern, check=False)
        now = set(remote.run("pgrep", "-s", sessions, check=False).text.split())
        if now == members:
            break
        members = now
    remote.run("pkill", "-KILL", "-s", sessions, check=False)
    remote.run("pkill", "-KILL", "-f", "--", pattern, check=False)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        left = remote.run("pgrep", "-f", "--", pattern, check=False).text.split() + \
            remote.run("pgrep", "-s", sessions, check=False).text.split()
        if not left:
            break
        time.sleep(0.2)
    return len(members | set(leaders))
