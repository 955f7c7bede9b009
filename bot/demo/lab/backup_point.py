"""A restore point written the way a backup job leaves it: the files, `SHA256SUMS` and
optionally `manifest.json` with the row counts the restore must find."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while block := data.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def write_point(system_dir: Path, name: str, files: dict[str, bytes], *,
                sums: bool = True, manifest: dict[str, int] | None = None) -> Path:
    """`<system_dir>/<name>/` with the files, SHA256SUMS and optionally manifest.json."""
    point = system_dir / name
    point.mkdir(parents=True, exist_ok=True)
    for file_name, data in files.items():
        (point / file_name).write_bytes(data)
    seal_point(point, sorted(files) if sums else [], manifest)
    return point


def seal_point(point: Path, names: list[str], manifest: dict[str, int] | None) -> None:
    """Write SHA256SUMS over the named files of the point (none: no SHA256SUMS) and the
    manifest, as the backup job does once its files are written."""
    if names:
        (point / "SHA256SUMS").write_text(
            "".join(f"{sha256(point / n)}  {n}\n" for n in names))
    if manifest is not None:
        (point / "manifest.json").write_text(json.dumps({"tables": manifest}))


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
