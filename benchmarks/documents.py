"""Document rendering time: the median time to render each kind, against plain fpdf2.

    python3 benchmarks/documents.py [--runs 7]

For each of the four documents (realistic sample data) it times Pulih's whole path
(jinja2 template -> page vocabulary -> fpdf2 layout with letterhead, tables, QR code,
embedded Unicode fonts) and, as the baseline measured in the same run, fpdf2 alone
setting the same words as plain paragraphs in the same fonts. It prints the medians,
their ratio, the pages, the size, and the time to sign the report (PAdES, pyHanko).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpdf import FPDF  # noqa: E402

from letters.fonts import FAMILY, bundled_fonts, register_fonts  # noqa: E402
from letters.markup import parse  # noqa: E402
from letters.page import Authenticity, Letterhead, PageSetup  # noqa: E402
from letters.render import KINDS, OfficeInfo, Sender, render_markup, render_pdf  # noqa: E402
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
    start = time.perf_counter()
    pulih("laporan")  # fonts are fixed at their weights once, then cached
    print(f"first render (font preparation, cached afterwards): "
          f"{time.perf_counter() - start:.2f} s")
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
