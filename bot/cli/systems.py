"""A system named on the command line, found in the database, or a sentence naming the fix."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.errors import ConfigError, PulihError
from bot.inventory.loader import load_inventory
from bot.services.restores.backups import SystemAccess, system_access
from bot.workflow.refusals import NotFound


def access_for(c: Container, session: Session, code: str) -> SystemAccess:
    """The system's endpoints; a system the inventory file names but the database does not
    yet know is refused with the command that loads it."""
    try:
        return system_access(session, code, c.settings.timezone)
    except NotFound:
        path = c.settings.inventory_path
        try:
            in_file = any(s.code == code for s in load_inventory(path).systems)
        except (ConfigError, OSError):
            in_file = False
        if in_file:
            raise PulihError(f"Sistem {code!r} ada di {path} tetapi belum dimuat ke basis "
                             "data; muat dulu: pulih inventory sync") from None
        raise
