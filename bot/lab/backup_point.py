"""A restore point written the way a backup job leaves it: the files, `SHA256SUMS` and
optionally `manifest.json` with the row counts the restore must find."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path


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
