"""Backup points written the way a backup job (or a cron mysqldump) leaves them."""

from __future__ import annotations

import io
import tarfile

from bot.demo.lab.backup_point import gz, sha256, write_point

__all__ = ["MARIADB_DUMP", "gz", "sha256", "tar_gz", "write_point"]

MARIADB_DUMP = """-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB
-- Host: localhost    Database: simpeg
CREATE TABLE `pegawai` (`id` int NOT NULL, `nama` varchar(100), PRIMARY KEY (`id`));
INSERT INTO `pegawai` VALUES (1,'Andi'),(2,'Budi');
-- Dump completed on 2026-11-20  2:00:01
"""


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1763600000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
