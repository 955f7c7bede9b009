"""The test office wired to the test SSH servers, in a SQLite file, behind an env file."""

from __future__ import annotations

from pathlib import Path

from bot.bootstrap import bootstrap
from bot.db.migrate import upgrade
from bot.demo.lab.sshd import SshServer
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.settings import load_settings
from tests.support.clock import running
from tests.support.office import NOW, write_inventory


def networked_office(folder: Path, backup: SshServer, target: SshServer, backup_root: Path,
                     system_extra: str = "",
                     database_url: str | None = None,
                     extra_env: dict[str, str] | None = None,
                     web_app_dir: str | None = None, portal_extra: str | None = None) -> Path:
    """Migrate and load the office (SQLite unless `database_url`); return the env file
    that points `pulih` (and the bot) at it."""
    inventory = write_inventory(
        folder / "office", key=backup.user_key, known=backup.known_hosts,
        backup_port=backup.port, backup_root=str(backup_root), target_port=target.port,
        target_key=target.user_key, target_known=target.known_hosts,
        system_extra=system_extra, web_app_dir=web_app_dir, portal_extra=portal_extra)
    env_file = folder / "test.env"
    database_url = database_url or f"sqlite:///{folder / 'pulih.sqlite3'}"
    env_file.write_text(f"PULIH_DATABASE_URL={database_url}\n"
                        f"PULIH_INVENTORY={inventory}\nPULIH_DATA_DIR={folder / 'data'}\n"
                        + "".join(f"{k}={v}\n" for k, v in (extra_env or {}).items()))
    container = bootstrap(load_settings(environ={}, env_file=env_file), running())
    upgrade(container.engine)
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(inventory), NOW)
    container.close()
    return env_file
