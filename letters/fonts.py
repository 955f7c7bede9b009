"""The faces documents are set in. They come with the Python packages Pulih depends on
(Arimo, metric-compatible with Arial, and Noto Sans Arabic as a fallback), so a fresh
machine prints any Latin, Greek, Cyrillic, Hebrew or Arabic name without system fonts.
An office with a licensed Arial may point the settings at its own TTF files instead."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import fontpkg_arimo
import fontpkg_noto_sans_arabic
import uharfbuzz as hb
from fontTools.ttLib import TTFont
from fpdf import FPDF

FAMILY = "Naskah"
_FALLBACK = "NaskahArab"


@dataclass(frozen=True)
class FontFiles:
    """TTF files for the text face; variable fonts are fixed at the weight each needs."""

    regular: Path
    bold: Path
    italic: Path


def bundled_fonts() -> FontFiles:
    files = Path(fontpkg_arimo.ROOT) / "files"
    return FontFiles(regular=files / "Arimo[wght].ttf", bold=files / "Arimo[wght].ttf",
                     italic=files / "Arimo-Italic[wght].ttf")


def _arabic() -> Path:
    return next(iter(sorted((Path(fontpkg_noto_sans_arabic.ROOT) / "files").glob("*.ttf"))))


def _cache_dirs() -> list[Path]:
    """Where instances are kept: the user's cache, or a private temporary folder when that
    cannot be written (a service account without a home, a read-only home)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return [Path(base) / "pulih" / "fonts",
            Path(tempfile.gettempdir()) / f"pulih-fonts-{os.getuid()}"]


def static_instance(path: Path, axes: dict[str, float]) -> Path:
    """`path` itself for a static font; for a variable one, its instance at `axes`, made
    once and kept in the cache."""
    return _instance(path, tuple(sorted(axes.items())))


@functools.lru_cache(maxsize=32)
def _instance(path: Path, axes: tuple[tuple[str, float], ...]) -> Path:
    with TTFont(str(path), lazy=True) as font:
        if "fvar" not in font:
            return path
        known = {axis.axisTag for axis in font["fvar"].axes}
    wanted = {tag: value for tag, value in axes if tag in known}
    stat = path.stat()
    key = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}:{path}:{sorted(wanted.items())}"
                         .encode()).hexdigest()[:20]
    name = f"{path.stem.split('[')[0]}-{key}.ttf"
    problems = []
    for folder in _cache_dirs():
        target = folder / name
        if target.is_file():
            return target
        try:
            _write_instance(path, wanted, target)
            return target
        except OSError as exc:
            problems.append(f"{folder}: {exc.strerror or exc}")
    raise OSError(f"huruf {path.name} tidak dapat disiapkan ({'; '.join(problems)})")


def _write_instance(path: Path, axes: dict[str, float], target: Path) -> None:
    """Pin the variable font at `axes` with HarfBuzz (milliseconds, where fontTools'
    instancer takes seconds) and put the result in place atomically: two processes that
    race both write whole files, and the rename lets a reader see only a whole one."""
    face = hb.Face(hb.Blob.from_file_path(str(path)))
    wanted = hb.SubsetInput()
    wanted.keep_everything()
    for tag, value in axes.items():
        wanted.pin_axis_location(face, tag, value)
    instance = hb.subset(face, wanted)
    if instance is None:
        raise OSError(f"HarfBuzz could not instance {path.name} at {axes}")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(instance.blob.data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def register_fonts(pdf: FPDF, files: FontFiles) -> None:
    pdf.add_font(FAMILY, "", static_instance(files.regular, {"wght": 400.0}))
    pdf.add_font(FAMILY, "B", static_instance(files.bold, {"wght": 700.0}))
    pdf.add_font(FAMILY, "I", static_instance(files.italic, {"wght": 400.0}))
    pdf.add_font(FAMILY, "BI", static_instance(files.italic, {"wght": 700.0}))
    pdf.add_font(_FALLBACK, "", static_instance(_arabic(), {"wght": 400.0, "wdth": 100.0}))
    pdf.set_fallback_fonts([_FALLBACK], exact_match=False)
