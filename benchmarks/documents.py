"""Document rendering time: the median time to render each kind, against plain fpdf2.

    python3 benchmarks/documents.py [--runs 7]

For each of the four documents (realistic sample data) it times Pulih's whole path
(jinja2 template -> page vocabulary -> fpdf2 layout with letterhead, tables, QR code,
embedded Unicode fonts) and, as the baseline measured in the same run, fpdf2 alone
setting the same words as plain paragraphs in the same fonts. It prints the medians,
their ratio, the pages, the size, and the time to sign the report (PAdES, pyHanko).

First, the first document on a fresh machine: a new process with an empty font cache
renders the report, fonts fixed at their weights by HarfBuzz (as Pulih does), against
the same with fontTools' instancer (what Pulih did before) as the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpdf import FPDF  # noqa: E402

from letters.fonts import FAMILY, bundled_fonts, register_fonts  # noqa: E402
from letters.kinds import KINDS  # noqa: E402
from letters.markup import parse  # noqa: E402
from letters.page import Authenticity, Letterhead, PageSetup  # noqa: E402
from letters.render import OfficeInfo, Sender, render_markup, render_pdf  # noqa: E402
from letters.samples import sample_case, sample_issue  # noqa: E402
from letters.signing import Pkcs12Signer, SignRequest, make_dev_certificate  # noqa: E402

ZONE = ZoneInfo("Asia/Makassar")
KOP = Letterhead("Pemerintah Kabupaten Kutai Kartanegara", "Dinas Komunikasi dan Informatika",
                 ("Jalan Wolter Monginsidi No. 1, Tenggarong",), "Laman diskominfo.kukarkab.go.id")


def pulih(kind: str) -> bytes:
    return render_pdf(kind, case=sample_case(), issue=sample_issue(kind),
                      sender=Sender(KOP, "Tenggarong"), office=OfficeInfo(), setup=PageSetup(),
                      authenticity=Authenticity("K7QM-2XRA-9F", "Pulih K7QM-2XRA-9F"),
                      zone=ZONE)


def words_of(kind: str) -> list[str]:
    xml = render_markup(kind, case=sample_case(), issue=sample_issue(kind),
                        sender=Sender(KOP, "Tenggarong"), office=OfficeInfo(), zone=ZONE)
    lines: list[str] = []
    for block in parse(xml).blocks:
        lines.extend(str(value) for value in vars(block).values() if isinstance(value, str))
        for value in vars(block).values():
            if isinstance(value, tuple):
                lines.extend(str(item) for item in value)
    return lines


def plain_fpdf2(lines: list[str]) -> bytes:
    pdf = FPDF(format=(215, 330))
    register_fonts(pdf, bundled_fonts())
    pdf.add_page()
    pdf.set_font(FAMILY, size=12)
    for line in lines:
        pdf.multi_cell(0, 5.3, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# A fresh process: imports first (not timed), then the first document, timed.
FIRST_DOCUMENT = """
import sys, time
sys.path.insert(0, sys.argv[1])
from benchmarks.documents import pulih
if sys.argv[2] == "fonttools":
    import os, tempfile
    import letters.fonts
    from fontTools.ttLib import TTFont
    from fontTools.varLib.instancer import instantiateVariableFont

    def by_fonttools(path, axes, target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        os.close(fd)
        with TTFont(str(path)) as variable:
            instantiateVariableFont(variable, axes, updateFontNames=False).save(tmp)
        os.replace(tmp, target)

    letters.fonts._write_instance = by_fonttools
start = time.perf_counter()
pulih("laporan")
print(time.perf_counter() - start)
"""


def first_document(way: str, runs: int) -> float:
    """Median seconds of a first document in a new process with an empty font cache."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "XDG_CACHE_HOME": cache}
            out = subprocess.run([sys.executable, "-c", FIRST_DOCUMENT, str(ROOT), way],
                                 env=env, capture_output=True, text=True, check=True).stdout
            times.append(float(out.strip().splitlines()[-1]))
    return statistics.median(times)


def median_seconds(work: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    fresh = first_document("harfbuzz", args.runs)
    before = first_document("fonttools", max(1, args.runs // 2))
    print(f"first document on a fresh machine (empty font cache): {fresh:.2f} s; "
          f"with fontTools' instancer {before:.2f} s; ratio {fresh / before:.2f}")
    pulih("laporan")  # the fonts of this process's cache, ready for the runs below
    print(f"{'document':<48} {'pulih ms':>9} {'fpdf2 ms':>9} {'ratio':>6} {'pages':>5} "
          f"{'KiB':>6}")
    for kind, label in KINDS.items():
        pdf = pulih(kind)
        lines = words_of(kind)
        ours = median_seconds(lambda k=kind: pulih(k), args.runs)
        base = median_seconds(lambda w=lines: plain_fpdf2(w), args.runs)
        pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page ")
        print(f"{label:<48} {ours * 1000:>9.0f} {base * 1000:>9.0f} {ours / base:>6.2f} "
              f"{pages:>5} {len(pdf) / 1024:>6.0f}")
    with tempfile.TemporaryDirectory() as tmp:
        p12, passfile = Path(tmp) / "b.p12", Path(tmp) / "b.pass"
        make_dev_certificate(p12, passfile, "Benchmark", "Pulih")
        signer = Pkcs12Signer(p12, passfile.read_bytes().strip())
        report = pulih("laporan")
        request = SignRequest("TTE-laporan", "Benchmark", "Pengesahan", "Tenggarong")
        signing = median_seconds(lambda: signer.sign(report, request), args.runs)
    print(f"signing the report (PAdES, RSA-3072): {signing * 1000:.0f} ms median")


if __name__ == "__main__":
    main()
