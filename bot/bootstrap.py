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
from bot.services.audit_key import KeySource, key_path
from bot.settings import Settings
from letters.timefmt import utcnow
from restore.ssh import PASSPHRASE_ENV


@dataclass
class Container:
    """What a Pulih process runs on: settings, the database, and a clock."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=utcnow)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session whose work is committed together, or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings, clock: Callable[[], datetime] = utcnow) -> Container:
    """Wire the process from its settings."""
    if settings.ssh_key_passphrase:
        # The SSH engine, and the transfer process it starts, read the passphrase from
        # the environment; a value from .env is handed on there (the environment wins).
        os.environ.setdefault(PASSPHRASE_ENV, settings.ssh_key_passphrase)
    engine = make_engine(settings.database_url)
    keys = KeySource(key_path(settings.data_dir))
    return Container(settings, engine, make_session_factory(engine, {"audit_key": keys}), clock)
