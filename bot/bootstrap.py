"""The composition root: settings in, wired dependencies out. The CLI and tests call it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db.engine import make_engine, make_session_factory
from bot.inventory.loader import load_inventory
from bot.inventory.model import WatchSettings
from bot.services.audit.key import KeySource, key_path
from bot.services.documents.stationery import Stationery
from bot.settings import Settings
from letters.timefmt import utcnow
from restore.pipe import BYTES_ENV
from restore.ssh import PASSPHRASE_ENV


@dataclass(frozen=True)
class OfficeFacts:
    """What the inventory says of the office itself: its team group and its stationery."""

    team_chat_id: int
    stationery: Stationery
    watch: WatchSettings = field(default_factory=WatchSettings)


@dataclass
class Container:
    """What a Pulih process runs on: settings, the database, a clock, and the office's
    facts (read from the inventory when first needed, since `pulih init` and `db upgrade`
    run before there is one; read again only when the file changes)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=utcnow)
    _office: tuple[tuple[int, int], OfficeFacts] | None = field(default=None, repr=False)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session whose work is committed together, or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    @property
    def office(self) -> OfficeFacts:
        path = self.settings.inventory_path
        try:
            seen = path.stat()
            version = (seen.st_mtime_ns, seen.st_size)
        except OSError:
            version = (0, 0)  # the loader reports the missing file in its own words
        if self._office is None or self._office[0] != version:
            inventory = load_inventory(path)
            self._office = (version, OfficeFacts(inventory.team_chat_id,
                                                 Stationery.from_inventory(inventory),
                                                 inventory.watch))
        return self._office[1]

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings, clock: Callable[[], datetime] = utcnow) -> Container:
    """Wire the process from its settings."""
    if settings.ssh_key_passphrase:
        # The SSH engine, and the transfer process it starts, read the passphrase from
        # the environment; a value from .env is handed on there (the environment wins).
        os.environ.setdefault(PASSPHRASE_ENV, settings.ssh_key_passphrase)
    if settings.ssh_bytes != "otomatis":
        os.environ.setdefault(BYTES_ENV, settings.ssh_bytes)  # read the same way
    engine = make_engine(settings.database_url)
    keys = KeySource(key_path(settings.data_dir))
    return Container(settings, engine, make_session_factory(engine, {"audit_key": keys}), clock)
