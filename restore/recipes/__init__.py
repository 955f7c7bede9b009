"""The only restore recipes Pulih runs: mariadb, postgresql and files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from restore.errors import CommandFailed
from restore.safety import Op, absolute_path, identifier
from restore.ssh import Remote


@dataclass(frozen=True)
class TargetSpec:
    """What a recipe knows about the live system on the target."""

    recipe: str
    database: str | None = None
    app_dir: str | None = None
    db_host: str | None = None
    db_port: int | None = None
    db_user: str | None = None
    db_defaults_file: str | None = None
    health_url: str | None = None
    db_import_user: str | None = None  # PostgreSQL: the role the dump is imported as
    run_as: str | None = None  # the system user that reads archives and dumps on the target

    def as_reader(self, *words: str) -> list[str]:
        """`words` run as `run_as` (by root, or through sudo), or as they are."""
        return ["runuser", "-u", self.run_as, "--", *words] if self.run_as else list(words)


@dataclass(frozen=True)
class RunNames:
    """Names derived from the run's identity: the shadow, the kept live copy, the undone
    restore, the staging folder. The identity is the run's number and a random UUID, so
    two Pulih installations (each numbering its runs from 1) restoring to one server never
    share a name; a run recorded before runs had a UUID keeps its number-only names."""

    run_id: int
    uid: str = ""  # 32 hex digits

    @property
    def key(self) -> str:
        return f"{self.run_id}_{self.uid}" if self.uid else str(self.run_id)

    def db(self, kind: str) -> str:
        return identifier(f"pulih_{kind}_{self.key}")

    @property
    def shadow_db(self) -> str:
        return self.db("sh")

    @property
    def rollback_db(self) -> str:
        return self.db("rb")

    @property
    def undone_db(self) -> str:
        return self.db("un")

    def sibling(self, path: str, kind: str) -> str:
        return absolute_path(f"{path.rstrip('/')}.pulih-{kind}-{self.key}")


@dataclass(frozen=True)
class Staged:
    """A backup file copied to the staging area on the target, with its checked digest;
    for an archive, the entries the reader saw in it on the way, with their digests."""

    name: str
    path: str
    size: int
    tree: dict[str, str] | None = None


class Recipe(Protocol):
    """One way of restoring; every step works on the shadow until `swap`."""

    kind: str
    import_failed: str  # how the message of a failed import begins

    def preflight(self, remote: Remote) -> None: ...
    def space_needed(self, staged_size: int, names: list[str]) -> list[tuple[str, int]]: ...
    def pick(self, names: list[str]) -> str: ...
    def streams(self, name: str) -> bool:
        """Whether this file can flow straight into the import (else it is staged)."""
        ...

    def prepare(self, remote: Remote, staged: Staged, run: RunNames) -> list[str | Op]:
        """Make the empty shadow; return the import that fills it from its input."""
        ...

    def finish(self, remote: Remote, staged: Staged, run: RunNames) -> None:
        """After the import: what the shadow needs before it is verified."""
        ...

    def explain(self, exc: CommandFailed) -> CommandFailed: ...
    def apply(self, remote: Remote, staged: Staged, run: RunNames) -> None:
        """The staged way: prepare, import the copy in the staging folder, finish."""
        ...

    def verify(self, remote: Remote, run: RunNames,
               manifest: dict[str, Any]) -> dict[str, Any]: ...
    def swap(self, remote: Remote, run: RunNames) -> None: ...
    def post_check(self, remote: Remote, verified: dict[str, Any]) -> dict[str, Any]: ...
    def rollback(self, remote: Remote, run: RunNames) -> None: ...
    def discard_shadow(self, remote: Remote, run: RunNames) -> None: ...
    def discard_rollback(self, remote: Remote, run: RunNames) -> None: ...
    def discard_undone(self, remote: Remote, run: RunNames) -> None: ...
    def settle_swap(self, remote: Remote, run: RunNames) -> bool: ...
    def live_state(self, remote: Remote) -> list[str]: ...
    def rollback_digest(self, remote: Remote, run: RunNames) -> str: ...
    def shadow_left(self, remote: Remote, run: RunNames) -> str | None: ...
