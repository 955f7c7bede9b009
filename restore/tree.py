"""The digest of an application's file tree, as the files recipe computes it on the target,
as the archive reader computes it from an archive, and as a backup job writes it into
`manifest.json` (`tree_sha256`). Names are bytes on disk; here they are `str` decoded with
`surrogateescape`, so every name (invalid UTF-8 included) maps back to its exact bytes."""

from __future__ import annotations

import hashlib

Tree = dict[str, str]  # relative path -> digest of what is there


def name_of(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def raw_name(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def link_digest(target: bytes) -> str:
    """A symbolic link stands for its target text, never for what it points to."""
    return hashlib.sha256(b"symlink\0" + target).hexdigest()


def tree_digest(tree: Tree) -> str:
    """SHA-256 of the `sha256sum`-style lines `<digest>  <path>\\n`, sorted by the path's
    bytes."""
    body = hashlib.sha256()
    for raw, digest in sorted((raw_name(path), digest) for path, digest in tree.items()):
        body.update(digest.encode("ascii") + b"  " + raw + b"\n")
    return body.hexdigest()


def differences(expected: Tree, found: Tree, shown: int = 5) -> list[str]:
    """What differs between two trees, by name: missing, extra and changed entries, each
    with its count and the first few names."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    changed = sorted(p for p in set(expected) & set(found) if expected[p] != found[p])
    return [f"{len(names)} {what} ({', '.join(map(repr, names[:shown]))}"
            f"{', ...' if len(names) > shown else ''})"
            for names, what in ((missing, "hilang"), (extra, "lebih"), (changed, "berubah"))
            if names]
