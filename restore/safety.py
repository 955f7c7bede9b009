"""Strict patterns and quoting: nothing from the inventory or a user reaches a shell raw."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from restore.errors import UnsafeValue

IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
POINT_RE = re.compile(r"^\d{8}-\d{4}$")
FILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,200}$")
_PATH_PART_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def identifier(value: str, what: str = "nama basis data") -> str:
    """A database or table name: letters, digits and _, starting with a letter or _."""
    if not IDENTIFIER_RE.match(value):
        raise UnsafeValue(f"{what} {value!r} tidak sah: hanya huruf, angka dan _ yang diizinkan.")
    return value


def file_name(value: str) -> str:
    """One path component, no slashes, no leading dot or dash."""
    if not FILE_NAME_RE.match(value) or value in (".", ".."):
        raise UnsafeValue(f"Nama berkas {value!r} tidak sah.")
    return value


URL_RE = re.compile(r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?"
                    r"(?:/[A-Za-z0-9._~%!*+,;=:@/\-]*)?(?:\?[A-Za-z0-9._~%!*+,;=:@/?&\-]*)?$")


def relative_path(value: str, what: str = "path") -> str:
    """A path under a root: components as `file_name` allows (no '..', no leading dot or
    dash, no shell characters)."""
    parts = value.split("/")
    if not value or any(not p for p in parts):
        raise UnsafeValue(f"{what} {value!r} tidak sah.")
    for part in parts:
        file_name(part)
    return value


def url(value: str) -> str:
    """An http(s) address of letters, digits and the URL punctuation that needs no quoting:
    no quotes, backticks, `$`, `|`, spaces or brackets."""
    if len(value) > 2000 or not URL_RE.match(value):
        raise UnsafeValue(f"URL {value!r} tidak sah: hanya http(s)://host[:port]/path?query "
                          "dengan huruf, angka dan tanda baca URL biasa.")
    return value


def absolute_path(value: str) -> str:
    """A normalised absolute path of safe components (no '..', no shell characters)."""
    if not value.startswith("/"):
        raise UnsafeValue(f"Path {value!r} harus absolut.")
    parts = [p for p in value.split("/") if p]
    if not parts or any(p in (".", "..") or not _PATH_PART_RE.match(p) for p in parts):
        raise UnsafeValue(f"Path {value!r} tidak sah.")
    return "/" + "/".join(parts)


def confined(root: str, *parts: str) -> str:
    """`root` joined with `parts`, refused if the result leaves `root`."""
    base = absolute_path(root)
    for part in parts:
        for piece in part.split("/"):
            if piece:
                file_name(piece)
    joined = posixpath.normpath(posixpath.join(base, *parts))
    if joined != base and not joined.startswith(base.rstrip("/") + "/"):
        raise UnsafeValue(f"Path {joined!r} berada di luar {base!r}.")
    return joined


@dataclass(frozen=True)
class Op:
    """A shell operator from a fixed set; everything else is quoted."""

    text: str


PIPE = Op("|")
AND = Op("&&")
TO = Op(">")
QUIET = Op("2>/dev/null")
DISCARD = Op(">/dev/null")
FROM = Op("<")
TO_ERR = Op(">&2")
_OPS = {PIPE.text, AND.text, TO.text, QUIET.text, DISCARD.text, FROM.text, TO_ERR.text}


def shell(*tokens: str | Op) -> str:
    """A command line with every argument quoted and only allowlisted operators literal."""
    out: list[str] = []
    for token in tokens:
        if isinstance(token, Op):
            if token.text not in _OPS:
                raise UnsafeValue(f"operator {token.text!r} tidak diizinkan")
            out.append(token.text)
        else:
            out.append(shlex.quote(token))
    return " ".join(out)


def argv(words: Sequence[str]) -> str:
    """One command, every word quoted."""
    return shell(*words)
