"""Backup points written the way a backup job (or a cron mysqldump) leaves them."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

MARIADB_DUMP = """-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB
-- Host: localhost    Database: simpeg
CREATE TABLE `pegawai` (`id` int NOT NULL, `nama` varchar(100), PRIMARY KEY (`id`));
INSERT INTO `pegawai` VALUES (1,'Andi'),(2,'Budi');
-- Dump completed on 2026-11-20  2:00:01
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_point(system_dir: Path, name: str, files: dict[str, bytes], *,
                sums: bool = True, manifest: dict[str, int] | None = None) -> Path:
    """`<system_dir>/<name>/` with the files, SHA256SUMS and optionally manifest.json."""
    point = system_dir / name
    point.mkdir(parents=True, exist_ok=True)
    for file_name, data in files.items():
        (point / file_name).write_bytes(data)
    if sums:
        (point / "SHA256SUMS").write_text(
            "".join(f"{sha256(point / n)}  {n}\n" for n in sorted(files)))
    if manifest is not None:
        (point / "manifest.json").write_text(json.dumps({"tables": manifest}))
    return point


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1763600000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
