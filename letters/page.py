"""The page of an official document (Tata Naskah Dinas): paper, margins, letterhead on
the first page, page numbers on later pages, and the verification QR code and code in the
footer of every page."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import segno
from fpdf import FPDF

from letters.fonts import FAMILY, FontFiles, bundled_fonts, register_fonts

PAPERS = {"F4": (215.0, 330.0), "A4": (210.0, 297.0)}
MM_PER_PT = 25.4 / 72


@dataclass(frozen=True)
class PageSetup:
    """How the office's documents look; every value is a setting, not code."""

    paper: str = "F4"
    # top, right, bottom, left in millimetres (left leaves room for binding holes)
    margins: tuple[float, float, float, float] = (20.0, 20.0, 25.0, 30.0)
    font_size: float = 12.0
    line_spacing: float = 1.25
    fonts: FontFiles = field(default_factory=bundled_fonts)

    @property
    def size(self) -> tuple[float, float]:
        return PAPERS[self.paper]


@dataclass(frozen=True)
class Letterhead:
    """The kop: government and unit names, address lines and contact line."""

    government: str
    unit: str
    address: tuple[str, ...] = ()
    contact: str = ""
    logo: Path | None = None


@dataclass(frozen=True)
class Authenticity:
    """What the footer prints so that a reader can check the document."""

    code: str
    qr_payload: str
    notice: str = ""
    anchor: str = ""  # the activity record's head when the document was issued
    url: str = ""  # the verification page of this document (the QR's payload), if any


FOOTER_HEIGHT = 17.0


class OfficialPdf(FPDF):
    def __init__(self, setup: PageSetup, letterhead: Letterhead,
                 authenticity: Authenticity, shaping: bool = True) -> None:
        super().__init__(unit="mm", format=setup.size)
        self.setup = setup
        self.letterhead = letterhead
        self.figures: dict[str, bytes] = {}  # pictures a <figure ref> may place
        self.authenticity = authenticity
        top, right, bottom, left = setup.margins
        self.set_margins(left, top, right)
        self.set_auto_page_break(True, margin=bottom + FOOTER_HEIGHT)
        self.set_creator("Pulih")
        self.set_lang("id")
        register_fonts(self, setup.fonts)
        if shaping:  # right-to-left and combining text; costs time, so only when needed
            self.set_text_shaping(True)
        self.set_font(FAMILY, size=setup.font_size)
        self._qr = segno.make(authenticity.qr_payload, error="m", micro=False)
        self.kop_on_first_page = False

    @property
    def line_height(self) -> float:
        return self.setup.font_size * MM_PER_PT * self.setup.line_spacing

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def header(self) -> None:
        if self.page_no() == 1:
            if self.kop_on_first_page:
                self._kop()
            return
        size = self.font_size_pt
        self.set_font(FAMILY, "", self.setup.font_size - 1)
        self.set_y(self.t_margin - 10)
        self.cell(0, 5, f"- {self.page_no()} -", align="C")
        self.set_font(FAMILY, "", size)
        self.set_y(self.t_margin)

    def _kop(self) -> None:
        head = self.letterhead
        x0, y0 = self.l_margin, self.t_margin - 8
        text_x, text_w = x0, self.content_width
        if head.logo is not None:
            self.image(str(head.logo), x=x0, y=y0, h=24)
            text_x, text_w = x0 + 24, self.content_width - 24
        self.set_xy(text_x, y0)
        size = self.setup.font_size
        for text, style, pt in ((head.government.upper(), "", size + 2),
                                (head.unit.upper(), "B", size + 4)):
            self.set_font(FAMILY, style, pt)
            self.set_x(text_x)
            self.multi_cell(text_w, pt * MM_PER_PT * 1.2, text, align="C")
        self.set_font(FAMILY, "", size - 2)
        for line in (*head.address, head.contact):
            if line:
                self.set_x(text_x)
                self.multi_cell(text_w, (size - 2) * MM_PER_PT * 1.25, line, align="C")
        y = max(self.get_y() + 2, y0 + 26)
        self.set_line_width(0.8)
        self.line(x0, y, self.w - self.r_margin, y)
        self.set_line_width(0.2)
        self.line(x0, y + 1.1, self.w - self.r_margin, y + 1.1)
        self.set_font(FAMILY, "", size)
        self.set_xy(x0, y + 6)

    def footer(self) -> None:
        bottom = self.setup.margins[2]
        y = self.h - bottom - FOOTER_HEIGHT + 3
        self.set_draw_color(160)
        self.set_line_width(0.1)
        self.line(self.l_margin, y - 1.5, self.w - self.r_margin, y - 1.5)
        self.set_draw_color(0)
        self._draw_qr(self.l_margin, y, 14.0)
        size = self.font_size_pt
        self.set_font(FAMILY, "", 7.5)
        self.set_xy(self.l_margin + 17, y)
        lines = [f"Kode verifikasi: {self.authenticity.code}",
                 f"Periksa keaslian dokumen ini di {self.authenticity.url} atau pindai kode QR "
                 "di samping." if self.authenticity.url else
                 "Keaslian dokumen ini dapat diperiksa pada Dinas Komunikasi dan Informatika "
                 "dengan kode verifikasi atau kode QR di samping."]
        if self.authenticity.notice:
            lines.append(self.authenticity.notice)
        if self.authenticity.anchor:
            lines.append(f"Jangkar catatan kegiatan: {self.authenticity.anchor}")
        self.multi_cell(self.content_width - 17, 3.4, "\n".join(lines), align="L")
        self.set_font(FAMILY, "", size)

    def _draw_qr(self, x: float, y: float, size: float) -> None:
        matrix = self._qr.matrix
        module = size / len(matrix)
        self.set_fill_color(0)
        for r, row in enumerate(matrix):
            c = 0
            while c < len(row):
                if row[c]:
                    start = c
                    while c < len(row) and row[c]:
                        c += 1
                    self.rect(x + start * module, y + r * module, (c - start) * module,
                              module, style="F")
                else:
                    c += 1
