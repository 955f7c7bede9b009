"""Which inspection a backup file gets as it streams to the target, and what its refusal
says. The inspectors themselves: `restore.inspect_sql`, `restore.inspect_tar`."""

from __future__ import annotations

from typing import Protocol

from isal import isal_zlib as zlib  # zlib's interface, about three times as fast

from restore.errors import BackupUnsafe
from restore.inspect_sql import Finding, SqlInspector
from restore.inspect_tar import TarInspector

_PIECE = 4 << 20  # decompressed bytes handled at a time, whatever the compression ratio


class Inspector(Protocol):
    def feed(self, data: bytes) -> None: ...

    def so_far(self) -> list[Finding]:
        """What the bytes fed so far hold (every statement or member read whole), without
        judging where they end: asked while the bytes still stream."""
        ...

    def findings(self) -> list[Finding]:
        """Everything, the end of the file included: asked once, after the last byte."""
        ...


class Gunzipped:
    """Pass the decompressed bytes of a gzip stream (members one after another) on."""

    def __init__(self, inner: Inspector) -> None:
        self.inner = inner
        self.unzip = zlib.decompressobj(wbits=31)
        self.broken = ""
        self.midway = False  # inside a gzip member that has not ended yet

    def feed(self, data: bytes) -> None:
        while data and not self.broken:
            self.midway = True
            try:
                out = self.unzip.decompress(data, _PIECE)
            except zlib.error as exc:  # type: ignore[misc]  # isal's stub: an instance
                self.broken = str(exc)
                return
            self.inner.feed(out)
            if self.unzip.eof:
                data = self.unzip.unused_data
                self.unzip = zlib.decompressobj(wbits=31)
                self.midway = False
            else:
                data = self.unzip.unconsumed_tail

    def so_far(self) -> list[Finding]:
        found = list(self.inner.so_far())
        if self.broken:
            found.append(Finding("berkas gzip", "", f"tidak dapat dibuka: {self.broken}"))
        return found

    def findings(self) -> list[Finding]:
        found = self.inner.findings()
        if self.midway and not self.broken:
            self.broken = "berkas terpotong"
        if self.broken:
            found.append(Finding("berkas gzip", "", f"tidak dapat dibuka: {self.broken}"))
        return found


def _kind(recipe: str, name: str) -> str | None:
    lower = name.lower()
    if recipe == "files" and lower.endswith((".tar", ".tar.gz", ".tgz")):
        return "tar"
    if recipe in ("mariadb", "postgresql") and lower.endswith(".sql"):
        return "sql"
    if recipe in ("mariadb", "postgresql") and lower.endswith(".sql.gz"):
        return "sql.gz"
    return None


def read_in_passing(recipe: str, name: str) -> bool:
    """Whether the file's own bytes are what is inspected (not, as for PostgreSQL's
    custom format, the SQL it turns into on the target)."""
    return _kind(recipe, name) is not None


def inspector_for(recipe: str, name: str) -> Inspector | None:
    """The inspection for this file, or None when it is not a format read in passing
    (PostgreSQL's custom format, read on the target instead)."""
    kind = _kind(recipe, name)
    if kind == "tar":
        return TarInspector()
    if kind == "sql":
        return SqlInspector(recipe)
    if kind == "sql.gz":
        return Gunzipped(SqlInspector(recipe))
    return None


def refusal(name: str, findings: list[Finding]) -> BackupUnsafe:
    listed = "; ".join(f.sentence() for f in findings)
    return BackupUnsafe(
        f"Backup {name} ditolak karena memuat hal yang tidak boleh ada dalam backup satu "
        f"sistem: {listed}. Checksum di server backup hanya membuktikan berkas tidak rusak, "
        "bukan bahwa isinya aman. Data live tidak disentuh.")
