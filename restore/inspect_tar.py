"""Read an application archive's members as they stream past, and name those that would
put more than plain files and folders into the application's folder.

Refused: devices, FIFOs and other special members; setuid and setgid bits; absolute or
climbing names; symbolic links that point outside the tree (followed through the links the
archive itself makes); hard links to anything but an earlier file of the same archive.
World-writable modes are not refused: tar extracts with the umask, which drops them.
As it reads, it also takes the digest of every entry (`tree`): what the extracted folder
must hold, compared by the files recipe and with the backup job's `tree_sha256`.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import tarfile
import threading

from restore.inspect_sql import MAX_FINDINGS, Finding
from restore.tree import Tree, link_digest, raw_name

_LINK_DEPTH = 40


class TarInspector:
    """Feed the archive's bytes (gzip or plain) in any pieces; `findings()` at the end."""

    def __init__(self) -> None:
        self.found: list[Finding] = []
        self.links: dict[str, str] = {}
        self.files: set[str] = set()
        self.tree: Tree = {}
        self._read, self._write = os.pipe()
        self._thread = threading.Thread(target=self._members, daemon=True,
                                        name="pulih-inspect-tar")
        self._thread.start()

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._write, view)
            except BrokenPipeError:
                return
            view = view[written:]

    def so_far(self) -> list[Finding]:
        # The reading thread may be up to a pipe's worth behind: what it has not reached
        # yet is judged by the next call, or by `findings`.
        return list(self.found)

    def findings(self) -> list[Finding]:
        os.close(self._write)
        self._thread.join()
        return self.found

    # -- the reading thread ---------------------------------------------------------------

    def _members(self) -> None:
        with os.fdopen(self._read, "rb") as stream:
            try:
                with tarfile.open(fileobj=stream, mode="r|*", encoding="utf-8",
                                  errors="surrogateescape") as archive:
                    for member in archive:
                        self._judge(member)
                        self._take_digest(archive, member)
                        # Kept for random access, never needed here: memory stays flat.
                        archive.members = []  # type: ignore[attr-defined]
            except (tarfile.TarError, EOFError, OSError) as exc:
                self._flag("arsip", f"tidak dapat dibaca sebagai tar: {exc}")
            while stream.read(1 << 20):  # drain, so the writer never blocks on a dead reader
                pass

    def _judge(self, member: tarfile.TarInfo) -> None:
        name = member.name
        clean = posixpath.normpath(name.removeprefix("./")) if name not in (".", "./") else "."
        if name.startswith("/") or clean == ".." or clean.startswith("../"):
            self._flag(name, "nama di luar folder aplikasi")
            return
        if self._escapes(posixpath.dirname(clean)):
            self._flag(name, "ditulis melalui tautan ke luar folder aplikasi")
            return
        if member.ischr() or member.isblk():
            self._flag(name, "berkas perangkat (device)")
        elif member.isfifo():
            self._flag(name, "FIFO (pipa bernama)")
        elif member.issym():
            target = member.linkname
            if target.startswith("/"):
                self._flag(name, f"tautan simbolik mutlak ke {target}")
            else:
                self.links[clean] = target
                if self._escapes(clean):
                    self._flag(name, f"tautan simbolik ke luar folder aplikasi ({target})")
        elif member.islnk():
            target = posixpath.normpath(member.linkname.removeprefix("./"))
            if member.linkname.startswith("/") or target not in self.files:
                self._flag(name, f"tautan keras ke {member.linkname}, bukan berkas arsip ini")
        elif not (member.isreg() or member.isdir()):
            self._flag(name, "jenis anggota arsip yang tidak dikenal")
        if member.mode & (stat.S_ISUID | stat.S_ISGID) and not member.issym():
            self._flag(name, "bit setuid/setgid")
        if member.isreg():
            self.files.add(clean)

    def _take_digest(self, archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        if member.name in (".", "./"):
            return
        name = posixpath.normpath(member.name.removeprefix("./"))
        if member.isreg():
            digest = hashlib.sha256()
            content = archive.extractfile(member)
            assert content is not None  # a regular member always has content
            while piece := content.read(1 << 20):
                digest.update(piece)
            self.tree[name] = digest.hexdigest()
        elif member.issym():
            self.tree[name] = link_digest(raw_name(member.linkname))
        elif member.islnk():
            target = posixpath.normpath(member.linkname.removeprefix("./"))
            if target in self.tree:
                self.tree[name] = self.tree[target]

    def _escapes(self, path: str) -> bool:
        """Whether `path`, resolved through the archive's own links, leaves the tree."""
        parts = [p for p in path.split("/") if p not in ("", ".")]
        resolved: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if not resolved:
                    return True
                resolved.pop()
                continue
            here = "/".join([*resolved, part])
            if here in self.links:
                hops += 1
                target = self.links[here]
                if hops > _LINK_DEPTH or target.startswith("/"):
                    return True
                parts = [p for p in target.split("/") if p not in ("", ".")] + parts
                continue
            resolved.append(part)
        return False

    def _flag(self, member: str, why: str) -> None:
        if len(self.found) < MAX_FINDINGS:
            self.found.append(Finding(f"anggota {member!r}", "", why))
