"""Application files: unpack the archive into a new directory, compare, then swap by rename."""

from __future__ import annotations

import dataclasses
from typing import Any

from restore.errors import BackupInvalid, CommandFailed, RestoreError
from restore.recipes import RunNames, Staged, TargetSpec
from restore.safety import AND, FROM, PIPE, Op, absolute_path
from restore.ssh import Remote
from restore.transfer_process import inspect_in_child
from restore.tree import Tree, differences, link_digest, name_of, tree_digest


class FilesRecipe:
    kind = "files"
    import_failed = "Membongkar arsip ke folder sementara gagal"

    def __init__(self, spec: TargetSpec) -> None:
        if not spec.app_dir:
            raise BackupInvalid("Sistem berkas tanpa app_dir di inventaris.")
        self.spec = spec
        self.live = absolute_path(spec.app_dir)
        self._expected: Tree | None = None  # the archive's entries, from apply to verify
        if self.live.count("/") < 2:
            raise BackupInvalid(f"app_dir {self.live!r} terlalu dekat dengan akar sistem.")

    def preflight(self, remote: Remote) -> None:
        if remote.run("test", "-d", self.live, check=False).status != 0:
            raise RestoreError(f"Folder aplikasi {self.live} tidak ada di "
                               f"{remote.endpoint.label}.")

    def space_needed(self, staged_size: int, names: list[str]) -> list[tuple[str, int]]:
        """Beside the live folder, room for the shadow: an uncompressed archive unpacks to
        about its own size; a compressed one is reckoned at four times it."""
        parent = self.live.rsplit("/", 1)[0] or "/"
        plain = all(n.endswith(".tar") for n in names)
        return [(parent, staged_size + staged_size // 10 if plain else staged_size * 4)]

    def pick(self, names: list[str]) -> str:
        for name in names:
            if name.endswith((".tar.gz", ".tgz", ".tar")):
                return name
        raise BackupInvalid("Titik backup tidak berisi arsip tar aplikasi.")

    def streams(self, name: str) -> bool:
        return True  # tar reads an archive once, start to end

    def prepare(self, remote: Remote, staged: Staged, run: RunNames) -> list[str | Op]:
        shadow = run.sibling(self.live, "sh")
        remote.run("mkdir", "-m", "0755", "--", shadow)
        if self.spec.run_as:  # tar then writes as that user, and only there
            remote.run("chown", "--", self.spec.run_as, shadow)
        flag = "-xf" if staged.name.endswith(".tar") else "-xzf"
        # No owners and the umask's modes: nothing setuid, nothing world-writable, lands.
        return ["umask", "022", AND, *self.spec.as_reader(
            "tar", "--no-same-owner", "--no-same-permissions", flag, "-", "-C", shadow)]

    def finish(self, remote: Remote, staged: Staged, run: RunNames) -> None:
        # The archive's owners are not trusted; the restored tree belongs to whoever owns
        # the live folder (the web server's user, typically), so the application can still
        # write where it wrote before. Without root this changes nothing, and need not.
        remote.run("chown", "-R", "--no-dereference", f"--reference={self.live}", "--",
                   run.sibling(self.live, "sh"), check=False, timeout=3600)
        self._expected = staged.tree  # the entries the reader saw, for `verify`

    def explain(self, exc: CommandFailed) -> CommandFailed:
        return exc

    def apply(self, remote: Remote, staged: Staged, run: RunNames) -> None:
        if staged.tree is None:  # not read on its way here: read it where it lies
            expected: Tree = {}
            inspect_in_child(remote, ["cat", "--", staged.path], staged.name, self.kind,
                             raw=True, tree=expected)
            staged = dataclasses.replace(staged, tree=expected)
        command = self.prepare(remote, staged, run)
        result = remote.run(*command, FROM, staged.path, check=False, timeout=6 * 3600)
        if result.status != 0:
            raise CommandFailed(f"{self.import_failed}: {result.error_text()}")
        self.finish(remote, staged, run)

    def tree(self, remote: Remote, directory: str) -> Tree:
        """path -> digest of every non-directory entry under `directory`: a file's SHA-256;
        a symbolic link's is that of its target text (never followed: a link to /dev/zero
        or to a folder is a link); anything else (FIFO, socket, device) is named, not read.
        Names travel NUL-separated and unescaped, whatever the target's locale."""
        found: Tree = {}
        tail = [b""]

        def take(data: bytes) -> None:  # the listing may be any length: read as it comes
            *records, tail[0] = (tail[0] + data).split(b"\0")
            for record in records:
                found[name_of(record[66:].removeprefix(b"./"))] = record[:64].decode("ascii")

        remote.run("cd", directory, AND, "find", ".", "-type", "f", "-print0", PIPE,
                   "xargs", "-0", "-r", "sha256sum", "--zero", "--", timeout=6 * 3600,
                   on_output=take)
        others = remote.run("cd", directory, AND, "find", ".", "!", "-type", "d", "!", "-type",
                            "f", "-printf", r"%y\0%p\0%l\0", timeout=3600).stdout
        fields = others.split(b"\0")
        for kind, raw, target in zip(fields[0::3], fields[1::3], fields[2::3], strict=False):
            name = name_of(raw.removeprefix(b"./"))
            if kind == b"l":
                found[name] = link_digest(target)
            else:
                found[name] = f"special:{kind.decode('ascii', 'replace')}"
        return found

    tree_digest = staticmethod(tree_digest)

    def verify(self, remote: Remote, run: RunNames,
               manifest: dict[str, Any]) -> dict[str, Any]:
        found = self.tree(remote, run.sibling(self.live, "sh"))
        expected = self._expected
        if expected is not None and found != expected:
            raise BackupInvalid("Isi folder sementara tidak sama dengan arsip: "
                                + "; ".join(differences(expected, found)) + ".")
        self._expected = None  # compared: not held through the rest of the restore
        digest = tree_digest(found)
        want = manifest.get("tree_sha256")
        if want and want != digest:
            raise BackupInvalid(f"Digest pohon berkas di folder sementara ({digest[:16]}...) "
                                f"tidak sama dengan tree_sha256 di manifest.json "
                                f"({want[:16]}...): arsip tidak sesuai dengan yang dicatat "
                                "pekerjaan backup. Restore dihentikan sebelum penggantian.")
        return {"files": len(found), "tree_sha256": digest, "compared_with_manifest": bool(want)}

    def swap(self, remote: Remote, run: RunNames) -> None:
        shadow, kept = run.sibling(self.live, "sh"), run.sibling(self.live, "rb")
        remote.run("mv", "-T", "--", self.live, kept)
        moved = remote.run("mv", "-T", "--", shadow, self.live, check=False)
        if moved.status != 0:
            remote.run("mv", "-T", "--", kept, self.live)
            raise CommandFailed(f"Menukar folder gagal, folder lama dikembalikan: "
                                f"{moved.error_text()}")

    def post_check(self, remote: Remote, verified: dict[str, Any]) -> dict[str, Any]:
        found = self.tree(remote, self.live)
        return {"files": len(found), "tree_sha256": tree_digest(found)}

    def rollback(self, remote: Remote, run: RunNames) -> None:
        kept, undone = run.sibling(self.live, "rb"), run.sibling(self.live, "un")
        if remote.run("test", "-d", kept, check=False).status != 0:
            raise RestoreError(f"Salinan rollback {kept} tidak ada lagi.")
        remote.run("mv", "-T", "--", self.live, undone)
        remote.run("mv", "-T", "--", kept, self.live)

    def discard_shadow(self, remote: Remote, run: RunNames) -> None:
        remote.run("rm", "-rf", "--", run.sibling(self.live, "sh"))

    def discard_rollback(self, remote: Remote, run: RunNames) -> None:
        remote.run("rm", "-rf", "--", run.sibling(self.live, "rb"))

    def discard_undone(self, remote: Remote, run: RunNames) -> None:
        remote.run("rm", "-rf", "--", run.sibling(self.live, "un"))

    def settle_swap(self, remote: Remote, run: RunNames) -> bool:
        """After a crash between the two renames, put the old live folder back."""
        kept = run.sibling(self.live, "rb")

        def exists(path: str) -> bool:
            return remote.run("test", "-e", path, check=False).status == 0

        if not exists(kept):
            return False
        if exists(self.live):
            return True
        remote.run("mv", "-T", "--", kept, self.live)
        return False

    def live_state(self, remote: Remote) -> list[str]:
        """What is compared to say the live folder was not touched: the folder itself (device
        and inode: not moved or replaced) and the names at its top."""
        found = remote.run("stat", "-c", "%d:%i", "--", self.live, check=False)
        if found.status != 0:
            return []
        names = remote.run("find", self.live, "-mindepth", "1", "-maxdepth", "1", "-printf",
                           r"%f\0", check=False).stdout.decode("utf-8", "surrogateescape")
        return [f"folder {self.live} ({found.text.strip()})",
                *sorted(f"isi {n}" for n in names.split("\0") if n)]

    def rollback_digest(self, remote: Remote, run: RunNames) -> str:
        """The content of the folder kept for rollback (the tree digest)."""
        return tree_digest(self.tree(remote, run.sibling(self.live, "rb")))

    def shadow_left(self, remote: Remote, run: RunNames) -> str | None:
        """The run's shadow folder, if it is still on the target."""
        shadow = run.sibling(self.live, "sh")
        return shadow if remote.run("test", "-e", shadow, check=False).status == 0 else None
