"""What the step-4 card tells the team about how step 5 will move the file."""

from __future__ import annotations

from pathlib import Path

from bot.services.restores.backups import SystemAccess
from bot.services.restores.teamwork import restore_way
from restore.catalog import BackupSource
from restore.pull import Pull
from restore.ssh import Endpoint


def access(recipe: str, pull: Pull | None = None) -> SystemAccess:
    end = Endpoint("x", "10.0.0.1", 22, "pulih", Path("/k"), Path("/kh"))
    return SystemAccess("x", "X", recipe, end, end, BackupSource("/srv/backup", "x"), 1,
                        pull=pull)


def test_dumps_and_archives_stream_and_only_a_postgresql_custom_dump_is_staged() -> None:
    assert restore_way(access("mariadb"), ["simpeg.sql.gz"]) == "stream"
    assert restore_way(access("postgresql"), ["portal.sql"]) == "stream"
    assert restore_way(access("files"), ["web.tar.gz"]) == "stream"
    assert restore_way(access("postgresql"), ["portal.dump"]) == "staged"
    assert restore_way(access("postgresql"), ["portal.backup", "manifest.json"]) == "staged"


def test_a_system_whose_target_pulls_says_so_except_for_a_staged_format() -> None:
    pull = Pull("10.0.0.2", 22, "tarik", "/etc/pulih/k", "/etc/pulih/kh")
    assert restore_way(access("mariadb", pull), ["simpeg.sql.gz"]) == "pull"
    assert restore_way(access("postgresql", pull), ["portal.dump"]) == "staged"
