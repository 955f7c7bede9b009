"""What the two database recipes share: importing a dump, and judging tables by rows."""

from __future__ import annotations

from typing import Any

from restore.errors import BackupInvalid, CommandFailed, RestoreError
from restore.recipes import RunNames, Staged
from restore.safety import Op
from restore.ssh import Remote


def compare_counts(counts: dict[str, int], manifest: dict[str, Any],
                   where: str) -> dict[str, Any]:
    """Tables and row counts against the manifest (if any); BackupInvalid on a difference."""
    if not counts:
        raise BackupInvalid(f"Tidak ada tabel di {where} setelah impor.")
    expected = manifest.get("tables") or {}
    problems = []
    for table, rows in expected.items():
        if table not in counts:
            problems.append(f"tabel {table} tidak ada")
        elif counts[table] != rows:
            problems.append(f"tabel {table}: {counts[table]} baris, seharusnya {rows}")
    if problems:
        raise BackupInvalid(f"Verifikasi {where} gagal: " + "; ".join(problems))
    return {"tables": counts, "compared_with_manifest": bool(expected)}


class DatabaseRecipe:
    """Shared steps; subclasses say how to count rows and which database is live."""

    live: str
    import_failed = "Impor dump ke basis data sementara gagal"

    def counts(self, remote: Remote, database: str) -> dict[str, int]:
        raise NotImplementedError

    def tables(self, remote: Remote, database: str) -> list[str]:
        """The database's tables, named as `counts` names them."""
        raise NotImplementedError

    def import_dump(self, remote: Remote, *tokens: str | Op) -> None:
        result = remote.run(*tokens, check=False, timeout=6 * 3600)
        if result.status != 0:
            raise CommandFailed(f"{self.import_failed}: {result.error_text()}")

    def finish(self, remote: Remote, staged: Staged, run: RunNames) -> None:
        """Nothing: an imported database is ready to be verified."""

    def explain(self, exc: CommandFailed) -> CommandFailed:
        """A failed import's message, with what this kind of database adds to it."""
        return exc

    def verify(self, remote: Remote, run: RunNames,
               manifest: dict[str, Any]) -> dict[str, Any]:
        return compare_counts(self.counts(remote, run.shadow_db), manifest,
                              "basis data sementara")

    def post_check(self, remote: Remote, verified: dict[str, Any]) -> dict[str, Any]:
        """The live database after the swap holds exactly the tables verified in the shadow.
        Their rows are not counted again: the swap moved those very tables in one atomic
        step, and the application may rightly be writing to them already."""
        found = sorted(self.tables(remote, self.live))
        expected = sorted(verified.get("tables") or {})
        if found != expected:
            gone = ", ".join(t for t in expected if t not in found) or "-"
            more = ", ".join(t for t in found if t not in expected) or "-"
            raise RestoreError("tabel basis data live tidak sama dengan salinan sementara yang "
                               f"diverifikasi (hilang: {gone}; lebih: {more})")
        return {"tables_present": len(found)}
