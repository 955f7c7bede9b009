"""Key files others could read, and host-key files others could change: said as
warnings, since they still work but put every agency's server at risk. Systems whose
backups load with more rights than needed: said as advice."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.inventory.model import Inventory, SshTarget


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def exposed_files(inventory: Inventory) -> list[str]:
    """One Indonesian line per private key readable or writable by anyone but its owner,
    and per known_hosts file others could write (a swapped host key defeats the strict
    check); each file once."""
    targets: list[tuple[str, SshTarget]] = [
        *((f"server backup {b.name}", b.ssh) for b in inventory.backup_servers),
        *((f"sistem {s.code}", s.ssh) for s in inventory.systems)]
    warnings: list[str] = []
    seen: set[Path] = set()
    for owner, ssh in targets:
        for path, mask, what in ((ssh.key, 0o077, "kunci SSH dapat dibaca pengguna lain"),
                                 (ssh.known_hosts, 0o022,
                                  "known_hosts dapat diubah pengguna lain")):
            mode = _mode(path)
            if path in seen or mode is None or not mode & mask:
                continue
            seen.add(path)
            warnings.append(f"PERINGATAN: {path} ({owner}): {what} (mode {mode:04o}); "
                            f"perbaiki dengan: chmod {'600' if mask == 0o077 else '644'} "
                            f"{path}")
    return warnings


def unconfined_imports(inventory: Inventory) -> list[str]:
    """One line per system whose backups are loaded with more rights than they need: a
    database dump imported as `db_user` (no `db_import_user`), or an archive or dump read
    as the SSH user (no `run_as`). They still work; the README says how to confine them."""
    lines = []
    for system in inventory.systems:
        missing = []
        if system.recipe in ("mariadb", "postgresql") and not system.db_import_user:
            missing.append("db_import_user (dump diimpor sebagai db_user)")
        if system.recipe in ("files", "postgresql") and not system.run_as:
            missing.append("run_as (arsip/dump dibaca sebagai pengguna SSH)")
        if missing:
            lines.append(f"SARAN: sistem {system.code}: isi {' dan '.join(missing)}; lihat "
                         "README, bagian backup adalah masukan.")
    return lines
