"""The faces documents are set in, made ready on a fresh machine: the bold and italic
instances of the variable fonts have the shapes and widths of their weight, two first
runs that race on an empty cache both print and leave whole files, and a cache that
cannot be written does not stop a document."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from fontTools.varLib.instancer import instantiateVariableFont

from letters.fonts import bundled_fonts, static_instance

# A first document in a process of its own, its fonts taken from an empty cache.
FIRST_DOCUMENT = """
import sys
from tests.support.documents import render
data = render("laporan")
assert data.startswith(b"%PDF"), data[:20]
sys.stdout.write("dokumen %d bita" % len(data))
"""


def _first_document(cache: Path, tmp: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "TMPDIR": str(tmp),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, "-c", FIRST_DOCUMENT], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


@pytest.mark.parametrize("italic", [False, True])
def test_the_bold_face_has_the_outlines_and_widths_of_the_bold_weight(
        italic: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = bundled_fonts().italic if italic else bundled_fonts().regular
    made = TTFont(str(static_instance(source, {"wght": 700.0})))
    reference = instantiateVariableFont(TTFont(str(source)), {"wght": 700.0})
    regular = TTFont(str(static_instance(source, {"wght": 400.0})))
    assert "fvar" not in made and "gvar" not in made  # a static font, as PDF embeds it
    assert made.getGlyphOrder() == reference.getGlyphOrder()
    assert made["hmtx"].metrics == reference["hmtx"].metrics
    assert made["hmtx"]["H"] != regular["hmtx"]["H"]  # bold is wider than regular
    for glyph in ("H", "a", "g", "uni0416", "alpha"):
        ours = made["glyf"][glyph].getCoordinates(made["glyf"])[0]
        theirs = reference["glyf"][glyph].getCoordinates(reference["glyf"])[0]
        assert len(ours) == len(theirs), glyph
        assert max(abs(a - b) for p, q in zip(ours, theirs, strict=True)
                   for a, b in zip(p, q, strict=True)) <= 1, glyph


def test_two_first_runs_on_an_empty_cache_both_print_and_leave_whole_fonts(
        tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    runs = [_first_document(cache, tmp_path) for _ in range(2)]
    assert all("dokumen" in _finish(run) for run in runs)
    kept = sorted((cache / "pulih" / "fonts").iterdir())
    assert [p.suffix for p in kept] == [".ttf"] * 5, kept  # five faces, no half-written file
    for path in kept:
        with TTFont(str(path)) as font:
            assert "fvar" not in font and font["maxp"].numGlyphs > 100, path.name
    again = _first_document(cache, tmp_path)
    assert "dokumen" in _finish(again)
    assert sorted((cache / "pulih" / "fonts").iterdir()) == kept  # read, not made again


def test_a_cache_that_cannot_be_written_does_not_stop_a_document(tmp_path: Path) -> None:
    blocked = tmp_path / "bukan-folder"
    blocked.write_text("a file where the cache folder should be")
    private = tmp_path / "tmp"
    private.mkdir()
    assert "dokumen" in _finish(_first_document(blocked, private))
    assert len(list((private / f"pulih-fonts-{os.getuid()}").glob("*.ttf"))) == 5
