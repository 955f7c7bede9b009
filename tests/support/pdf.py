"""Reading PDFs as a person would: the text poppler extracts, the page sizes, and PNG
pictures of the pages kept for a person to look at."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

POINTS_PER_MM = 72 / 25.4
ARTIFACTS = Path(os.environ.get("PULIH_TEST_ARTIFACTS", "build/test-artifacts"))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: install poppler-utils (.ci/run does)")
    return path


def pdf_text(pdf: bytes, tmp: Path, *, layout: bool = False) -> str:
    source = tmp / "doc.pdf"
    source.write_bytes(pdf)
    args = [_tool("pdftotext"), "-enc", "UTF-8"] + (["-layout"] if layout else [])
    return subprocess.run([*args, str(source), "-"], capture_output=True, check=True,
                          timeout=60).stdout.decode()


def page_sizes_mm(pdf: bytes, tmp: Path) -> list[tuple[float, float]]:
    source = tmp / "info.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([_tool("pdfinfo"), "-f", "1", "-l", "999", str(source)],
                         capture_output=True, check=True, text=True, timeout=60).stdout
    return [(round(float(w) / POINTS_PER_MM, 1), round(float(h) / POINTS_PER_MM, 1))
            for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out)]


def squash(text: str) -> str:
    """Text without any whitespace: what survives line wrapping."""
    return re.sub(r"\s+", "", text)


def keep_png_pages(pdf: bytes, name: str, dpi: int = 60) -> list[Path]:
    """Render every page to PNG under the artifacts folder; return the files."""
    folder = ARTIFACTS / "letters"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{name}-*.png"):
        old.unlink()
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run([_tool("pdftoppm"), "-r", str(dpi), "-png", str(source),
                    str(folder / name)], check=True, timeout=120)
    return sorted(folder.glob(f"{name}-*.png"))


def contains(text: str, field: str, max_gap: int = 12) -> bool:
    """Whether `field` is in the extracted text: whole (wrapping aside), or, inside a
    table whose cells wrap, as its words in order with the neighbouring cells' words
    between them."""
    if squash(field) in squash(text):
        return True
    words, wanted = text.split(), field.split()
    for start, word in enumerate(words):
        if word != wanted[0]:
            continue
        position, ok = start, True
        for piece in wanted[1:]:
            window = words[position + 1:position + 1 + max_gap]
            if piece not in window:
                ok = False
                break
            position += 1 + window.index(piece)
        if ok:
            return True
    return False


def body_text(text: str) -> str:
    """The pages' text joined without page numbers and footers, so that a paragraph
    that flows onto the next page reads as one."""
    bodies = []
    for page in text.split("\f"):
        page = page.split("Kode verifikasi:", 1)[0]
        bodies.append("\n".join(line for line in page.splitlines()
                                 if not re.fullmatch(r"-\s*\d+\s*-", line.strip())))
    return "\n".join(bodies)


def page_top(pdf: bytes, tmp: Path, page: int, height_mm: float = 18.0) -> str:
    """The text in the top band of one page (where later pages carry their number)."""
    source = tmp / "top.pdf"
    source.write_bytes(pdf)
    args = [_tool("pdftotext"), "-enc", "UTF-8", "-f", str(page), "-l", str(page), "-x", "0",
            "-y", "0", "-W", "2000", "-H", str(round(height_mm * POINTS_PER_MM))]
    return subprocess.run([*args, str(source), "-"], capture_output=True, check=True,
                          timeout=60).stdout.decode().strip()
