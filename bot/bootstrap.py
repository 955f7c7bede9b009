"""The composition root: settings in, wired dependencies out. The CLI and tests call it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db.engine import make_engine, make_session_factory
from bot.settings import Settings
from bot.timefmt import utcnow


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
    engine = make_engine(settings.database_url)
    return Container(settings, engine, make_session_factory(engine), clock)
