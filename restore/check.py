"""SOP step 4: check a restore point on the backup server without restoring it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from letters.timefmt import durasi
from restore.catalog import CHECKSUMS, MANIFEST, RestorePoint
from restore.errors import BackupInvalid, BackupUnsafe, RestoreError
from restore.inspect import read_in_passing
from restore.safety import DISCARD, PIPE, QUIET
from restore.ssh import Remote
from restore.transfer_process import inspect_in_child
from restore.tree import Tree, tree_digest

MARKERS = {"mariadb": b"-- Dump completed", "postgresql": b"-- PostgreSQL database dump complete"}
_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *]?(.+)$")
STALE_AFTER = timedelta(hours=48)


class Verdict(StrEnum):
    PASSED = "passed"
    WARNING = "warning"
    FAILED = "failed"


@dataclass(frozen=True)
class CheckItem:
    """One line of the check, as the team reads it."""

    name: str
    verdict: Verdict
    detail: str


@dataclass
class CheckReport:
    point: str
    taken_at: datetime
    size: int
    items: list[CheckItem] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        verdicts = {i.verdict for i in self.items}
        if Verdict.FAILED in verdicts or not self.items:
            return Verdict.FAILED
        return Verdict.WARNING if Verdict.WARNING in verdicts else Verdict.PASSED

    def add(self, name: str, verdict: Verdict, detail: str) -> None:
        self.items.append(CheckItem(name, verdict, detail))

    def as_dict(self) -> dict[str, Any]:
        return {"point": self.point, "taken_at": self.taken_at.isoformat(), "size": self.size,
                "verdict": self.verdict.value, "items": [asdict(i) for i in self.items],
                "digests": self.digests, "manifest": self.manifest}


def parse_sums(text: str) -> dict[str, str]:
    """`SHA256SUMS` lines ('<hex>  <name>' or '<hex> *<name>') as name -> digest."""
    sums: dict[str, str] = {}
    for line in text.splitlines():
        match = _SUM_LINE.match(line.strip())
        if match:
            sums[match.group(2).strip().lstrip("./")] = match.group(1).lower()
    return sums


def remote_digests(remote: Remote, paths: list[str]) -> dict[str, str]:
    """SHA-256 of each path, computed on the remote host."""
    if not paths:
        return {}
    result = remote.run("sha256sum", "--", *paths, timeout=3600)
    out: dict[str, str] = {}
    for line in result.text.splitlines():
        digest, _, path = line.partition("  ")
        out[path] = digest.lower()
    return out


CHECK_PHASES = {"checksum": "menghitung SHA-256", "format": "menguji format berkas",
                "isi": "membaca isi seluruhnya", "manifest": "mencocokkan manifest"}


def check_point(remote: Remote, point: RestorePoint, recipe: str, now: datetime, *,
                requested: datetime | None = None, newest: bool = True,
                on_phase: Callable[[str], None] | None = None) -> CheckReport:
    """Files present, checksums, a format test and the point's age; nothing is restored.
    `on_phase` hears each phase's name (a key of CHECK_PHASES) as it begins."""
    phase = on_phase or (lambda _: None)
    report = CheckReport(point.name, point.taken_at, point.size)
    if not point.files:
        report.add("berkas", Verdict.FAILED, "Titik backup tidak berisi berkas data.")
        return report
    for f in point.files:
        if f.size == 0:
            report.add(f"berkas {f.name}", Verdict.FAILED, "Berkas kosong (0 bita).")
        else:
            report.add(f"berkas {f.name}", Verdict.PASSED, f"Ada, {f.size} bita.")
    phase("checksum")
    _checksums(remote, point, report)
    phase("format")
    for f in point.files:
        if f.size:
            _format(remote, point.path_of(f.name), f.name, recipe, report)
    phase("isi")
    archive_trees = _content(remote, point, recipe, report)
    phase("manifest")
    _manifest(remote, point, report, archive_trees)
    _age(point, now, requested, newest, report)
    return report


def _checksums(remote: Remote, point: RestorePoint, report: CheckReport) -> None:
    expected: dict[str, str] = {}
    if CHECKSUMS in point.sidecars:
        expected.update(parse_sums(remote.run("cat", "--", point.path_of(CHECKSUMS)).text))
    for f in point.files:
        sidecar = f"{f.name}.sha256"
        if sidecar in point.sidecars:
            text = remote.run("cat", "--", point.path_of(sidecar)).text.strip()
            digest = text.split()[0].lower() if text else ""
            if re.fullmatch(r"[0-9a-f]{64}", digest):
                expected[f.name] = digest
    actual = remote_digests(remote, [point.path_of(f.name) for f in point.files])
    for f in point.files:
        digest = actual.get(point.path_of(f.name), "")
        report.digests[f.name] = digest
        want = expected.get(f.name)
        if want is None:
            report.add(f"checksum {f.name}", Verdict.WARNING,
                       f"Tidak ada checksum tercatat ({CHECKSUMS}); keaslian tidak dapat "
                       f"dipastikan. SHA-256 saat ini: {digest}")
        elif want != digest:
            report.add(f"checksum {f.name}", Verdict.FAILED,
                       f"SHA-256 TIDAK COCOK: tercatat {want}, dihitung {digest}. Berkas berubah "
                       "atau rusak.")
        else:
            report.add(f"checksum {f.name}", Verdict.PASSED, f"SHA-256 cocok ({digest}).")


def _content(remote: Remote, point: RestorePoint, recipe: str,
             report: CheckReport) -> dict[str, str]:
    """Read each file as its recipe will (in a process of its own): a checksum proves the
    file is the one written, not that what wrote it was friendly. Returns the tree digest
    of each archive read whole."""
    trees: dict[str, str] = {}
    for f in point.files:
        label = f"isi {f.name}"
        if not f.size:
            continue
        path = point.path_of(f.name)
        if read_in_passing(recipe, f.name):
            command, raw = ["cat", "--", path], True
        elif recipe == "postgresql" and f.name.endswith((".dump", ".pgdump", ".backup")):
            # The whole archive, turned into the SQL it holds: a truncated one fails here
            # (a table of contents alone reads fine), a hostile one is named.
            if remote.run("command", "-v", "pg_restore", DISCARD, check=False).status != 0:
                report.add(label, Verdict.WARNING, "pg_restore tidak tersedia di server "
                                                   "backup; isi dibaca saat restore.")
                continue
            command, raw = ["pg_restore", "--no-owner", "--no-privileges", "-f", "-", "--",
                            path], False
        else:
            continue
        entries: Tree = {}
        try:
            inspect_in_child(remote, command, f.name, recipe, raw=raw, tree=entries)
        except BackupUnsafe as exc:
            report.add(label, Verdict.FAILED,
                       exc.message.removesuffix(" Data live tidak disentuh."))
        except BackupInvalid as exc:
            report.add(label, Verdict.FAILED, f"Dump rusak atau terpotong: {exc.message}")
        except RestoreError as exc:
            report.add(label, Verdict.WARNING, f"Isi belum dapat dibaca ({exc.message}); "
                                               "dibaca lagi saat restore.")
        else:
            report.add(label, Verdict.PASSED, "Dibaca seluruhnya: tidak ada perintah atau "
                                              "anggota yang tidak lazim untuk backup satu "
                                              "sistem.")
            if recipe == "files":
                trees[f.name] = tree_digest(entries)
    return trees


def _format(remote: Remote, path: str, name: str, recipe: str, report: CheckReport) -> None:
    label = f"format {name}"
    lower = name.lower()
    if lower.endswith((".tar.gz", ".tgz", ".tar")):
        flag = "-tf" if lower.endswith(".tar") else "-tzf"
        ok = remote.run("tar", flag, path, DISCARD, check=False, timeout=3600)
        _verdict(report, label, ok.status == 0, "Arsip tar dapat dibaca seluruhnya.",
                 f"Arsip tar rusak: {ok.error_text()}")
        return
    if lower.endswith(".gz"):
        ok = remote.run("gzip", "-t", "--", path, check=False, timeout=3600)
        if ok.status != 0:
            report.add(label, Verdict.FAILED, f"Aliran gzip rusak: {ok.error_text()}")
            return
        if lower.endswith(".sql.gz"):
            tail = remote.run("gzip", "-dc", "--", path, PIPE, "tail", "-c", "4096",
                              check=False, timeout=3600).stdout
            _marker(report, label, tail, recipe)
        else:
            report.add(label, Verdict.PASSED, "Aliran gzip utuh.")
        return
    if lower.endswith(".sql"):
        tail = remote.run("tail", "-c", "4096", "--", path, check=False).stdout
        _marker(report, label, tail, recipe)
        return
    if lower.endswith((".dump", ".pgdump", ".backup")):
        head = remote.run("head", "-c", "5", "--", path, check=False).stdout
        if head != b"PGDMP":
            report.add(label, Verdict.FAILED, "Bukan dump PostgreSQL format custom (PGDMP).")
            return
        has_tool = remote.run("command", "-v", "pg_restore", DISCARD, check=False).status == 0
        if not has_tool:
            report.add(label, Verdict.WARNING, "Header PGDMP benar; pg_restore tidak tersedia "
                                              "di server backup untuk membaca daftar isi.")
            return
        listing = remote.run("pg_restore", "--list", "--", path, DISCARD, QUIET, check=False,
                             timeout=3600)
        _verdict(report, label, listing.status == 0, "Daftar isi dump terbaca (pg_restore "
                 "--list).", "pg_restore --list gagal: dump rusak atau terpotong.")
        return
    report.add(label, Verdict.WARNING, "Format berkas tidak dikenali; tidak diuji.")


def _marker(report: CheckReport, label: str, tail: bytes, recipe: str) -> None:
    marker = MARKERS.get(recipe)
    found = [k for k, m in MARKERS.items() if m in tail]
    if marker is not None and marker in tail:
        report.add(label, Verdict.PASSED, "Dump lengkap (penanda akhir dump ditemukan).")
    elif found:
        report.add(label, Verdict.FAILED, f"Dump ini dibuat untuk {found[0]}, bukan {recipe}.")
    else:
        report.add(label, Verdict.FAILED, "Dump terpotong: penanda akhir dump tidak ditemukan.")


def _verdict(report: CheckReport, label: str, ok: bool, good: str, bad: str) -> None:
    report.add(label, Verdict.PASSED if ok else Verdict.FAILED, good if ok else bad)


def _manifest(remote: Remote, point: RestorePoint, report: CheckReport,
              archive_trees: dict[str, str]) -> None:
    if MANIFEST not in point.sidecars:
        return
    try:
        data = json.loads(remote.run("cat", "--", point.path_of(MANIFEST)).text)
        tables = data.get("tables", {})
        if not isinstance(tables, dict) or not all(
                isinstance(k, str) and isinstance(v, int) for k, v in tables.items()):
            raise ValueError("tables")
        tree = data.get("tree_sha256")
        if tree is not None and not (isinstance(tree, str) and
                                     re.fullmatch(r"[0-9a-f]{64}", tree)):
            raise ValueError("tree_sha256")
    except (ValueError, AttributeError):
        report.add("manifest", Verdict.WARNING, f"{MANIFEST} tidak dapat dibaca; jumlah baris "
                                                "dan digest pohon tidak akan dibandingkan.")
        return
    report.manifest = {"tables": tables}
    said = [f"{len(tables)} tabel dengan jumlah baris tercatat"] if tables else []
    if tree:
        # The backup job's own word on the tree it wrote: the restore compares the shadow
        # with it before anything is swapped.
        report.manifest["tree_sha256"] = tree
        said.append(f"digest pohon berkas {tree[:16]}...")
        wrong = {name: digest for name, digest in archive_trees.items() if digest != tree}
        if wrong:
            name, digest = next(iter(wrong.items()))
            report.add("manifest", Verdict.FAILED,
                       f"tree_sha256 di {MANIFEST} ({tree[:16]}...) tidak sama dengan isi "
                       f"arsip {name} ({digest[:16]}...): arsip atau manifest tidak sesuai "
                       "dengan yang ditulis pekerjaan backup. Restore akan dihentikan "
                       "sebelum penggantian.")
            return
        if archive_trees:
            said.append("sama dengan isi arsip")
    report.add("manifest", Verdict.PASSED, f"{MANIFEST}: {', '.join(said) or 'kosong'}.")


def _age(point: RestorePoint, now: datetime, requested: datetime | None, newest: bool,
         report: CheckReport) -> None:
    age = durasi(point.age(now))
    if requested is not None:
        gap = point.taken_at - requested
        if gap > timedelta(0):
            report.add("umur", Verdict.WARNING, f"Backup dibuat {durasi(gap)} SESUDAH titik "
                                                "yang diminta; data setelah titik itu ikut "
                                                "terpulihkan.")
        elif -gap > timedelta(days=1):
            report.add("umur", Verdict.WARNING, f"Backup {durasi(-gap)} lebih awal dari titik "
                                                "yang diminta; data di antaranya hilang.")
        else:
            report.add("umur", Verdict.PASSED, f"Backup {durasi(-gap)} sebelum titik yang "
                                               f"diminta (umur {age}).")
        return
    if not newest:
        report.add("umur", Verdict.WARNING, f"Bukan backup terbaru (umur {age}), padahal yang "
                                            "diminta adalah backup terbaru.")
    elif point.age(now) > STALE_AFTER:
        report.add("umur", Verdict.WARNING, f"Backup terbaru sudah berumur {age}.")
    else:
        report.add("umur", Verdict.PASSED, f"Backup terbaru, umur {age}.")
