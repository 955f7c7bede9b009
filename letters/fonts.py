"""The faces documents are set in. They come with the Python packages Pulih depends on
(Arimo, metric-compatible with Arial, and Noto Sans Arabic as a fallback), so a fresh
machine prints any Latin, Greek, Cyrillic, Hebrew or Arabic name without system fonts.
An office with a licensed Arial may point the settings at its own TTF files instead."""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import fontpkg_arimo
import fontpkg_noto_sans_arabic
from fontTools.ttLib import TTFont
from fontTools.varLib.instancer import instantiateVariableFont
from fpdf import FPDF

FAMILY = "Naskah"
_FALLBACK = "NaskahArab"
_LOCK = threading.Lock()


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


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pulih" / "fonts"


def static_instance(path: Path, axes: dict[str, float]) -> Path:
    """`path` itself for a static font; for a variable one, its instance at `axes`, made
    once and kept in the cache (making it takes seconds, reading it milliseconds)."""
    return _instance(path, tuple(sorted(axes.items())))


@functools.lru_cache(maxsize=32)
def _instance(path: Path, axes: tuple[tuple[str, float], ...]) -> Path:
    with TTFont(str(path), lazy=True) as font:
        if "fvar" not in font:
            return path
        known = {axis.axisTag for axis in font["fvar"].axes}
    wanted = {tag: value for tag, value in axes if tag in known}
    key = hashlib.sha256(f"{path.stat().st_size}:{path.stat().st_mtime_ns}:{path}:"
                         f"{sorted(wanted.items())}".encode()).hexdigest()[:20]
    target = _cache_dir() / f"{path.stem.split('[')[0]}-{key}.ttf"
    with _LOCK:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with TTFont(str(path)) as variable:
                instance = instantiateVariableFont(variable, wanted, updateFontNames=False)
                # Written beside and renamed, so a parallel process never reads half a file.
                fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
                os.close(fd)
                instance.save(tmp)
                instance.close()
            os.replace(tmp, target)
    return target


def register_fonts(pdf: FPDF, files: FontFiles) -> None:
    pdf.add_font(FAMILY, "", static_instance(files.regular, {"wght": 400.0}))
    pdf.add_font(FAMILY, "B", static_instance(files.bold, {"wght": 700.0}))
    pdf.add_font(FAMILY, "I", static_instance(files.italic, {"wght": 400.0}))
    pdf.add_font(FAMILY, "BI", static_instance(files.italic, {"wght": 700.0}))
    pdf.add_font(_FALLBACK, "", static_instance(_arabic(), {"wght": 400.0, "wdth": 100.0}))
    pdf.set_fallback_fonts([_FALLBACK], exact_match=False)
