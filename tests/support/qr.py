"""Reading a document's QR code as a phone would: its first page rendered to a picture and
decoded by zbarimg."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def qr_of_first_page(pdf: bytes, tmp: Path) -> str:
    """What the QR code printed on the document's first page holds."""
    for tool, package in (("pdftoppm", "poppler-utils"), ("zbarimg", "zbar-tools")):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install {package} (.ci/run does)")
    source = tmp / "qr.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-png", str(source),
                    str(tmp / "qr")], check=True, timeout=120)
    picture = next(tmp.glob("qr-*1.png"))
    found = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable",
                            str(picture)], capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    codes = found.stdout.strip().splitlines()
    assert len(codes) == 1, codes
    return codes[0]
