"""Lay the blocks of a parsed template onto official pages."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

from fpdf.enums import Align, XPos, YPos
from PIL import Image

from letters import markup as m
from letters.fonts import FAMILY
from letters.page import OfficialPdf

SIGNATURE_SPACE = 22.0  # mm left blank for the wet or electronic signature
ANCHOR_PT = 2.0


def compose(pdf: OfficialPdf, document: m.Document,
            figures: Mapping[str, bytes] | None = None) -> None:
    """Lay out the blocks; `figures` are the pictures (PNG) a <figure ref> may place."""
    pdf.figures = dict(figures or {})
    pdf.set_title(document.title)
    blocks = list(document.blocks)
    if blocks and isinstance(blocks[0], m.Kop):
        pdf.kop_on_first_page = True
        blocks.pop(0)
    pdf.add_page()
    for block in blocks:
        _BLOCKS[type(block)](pdf, block)


def _font(pdf: OfficialPdf, style: str = "", delta: float = 0.0) -> None:
    pdf.set_font(FAMILY, style, pdf.setup.font_size + delta)


def _heading(pdf: OfficialPdf, block: m.Heading) -> None:
    _font(pdf, "B" if block.bold else "")
    pdf.multi_cell(0, pdf.line_height, block.text, align="C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _font(pdf)


def _meta(pdf: OfficialPdf, block: m.Meta) -> None:
    """Nomor/Sifat/Lampiran/Hal with aligned colons; place and date on the Nomor line
    when both fit there, otherwise on a line of its own above it."""
    h = pdf.line_height
    label_w = 24.0
    date_w = pdf.get_string_width(block.date) + 1 if block.date else 0.0
    first = block.rows[0].value if block.rows else ""
    beside = label_w + 4 + pdf.get_string_width(first) + 6 + date_w <= pdf.content_width
    if block.date and not beside:
        pdf.multi_cell(0, h, block.date, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for i, row in enumerate(block.rows):
        y = pdf.get_y()
        value_w = pdf.content_width - label_w - 4 - 20
        if i == 0 and block.date and beside:
            pdf.set_xy(pdf.l_margin + pdf.content_width - date_w, y)
            pdf.cell(date_w, h, block.date, align="R")
            value_w = pdf.content_width - label_w - 4 - date_w - 3
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(label_w, h, row.label)
        pdf.cell(4, h, ":")
        pdf.multi_cell(value_w, h, row.value or "-", align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    pdf.ln(h * 0.6)


def _address(pdf: OfficialPdf, block: m.Address) -> None:
    for line in block.lines:
        pdf.multi_cell(pdf.content_width * 0.7, pdf.line_height, line, align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(pdf.line_height * 0.6)


def _paragraph(pdf: OfficialPdf, block: m.Paragraph) -> None:
    align = {"J": Align.J, "L": Align.L, "C": Align.C, "R": Align.R}.get(block.align, Align.J)
    _runs(pdf, block.runs, align, pdf.l_margin, 10 if block.indent else 0,
          pdf.line_height * 0.4)


def _runs(pdf: OfficialPdf, runs: tuple[m.Run, ...], align: Align, left: float,
          indent: float, after: float) -> None:
    """Flowing text with bold/italic runs; it breaks onto further pages by itself."""
    with pdf.text_columns(text_align=align, l_margin=left, r_margin=pdf.r_margin) as columns, \
            columns.paragraph(first_line_indent=indent, bottom_margin=after) as par:
        for run in runs:
            _font(pdf, ("B" if run.bold else "") + ("I" if run.italic else ""))
            par.write(run.text)
    _font(pdf)


def _section(pdf: OfficialPdf, block: m.Section) -> None:
    if pdf.will_page_break(pdf.line_height * 3):
        pdf.add_page()
    pdf.ln(pdf.line_height * 0.3)
    pdf.start_section(block.text, level=0)
    _font(pdf, "B")
    pdf.multi_cell(0, pdf.line_height, block.text, align="L",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _font(pdf)


def _fields(pdf: OfficialPdf, block: m.Fields) -> None:
    h = pdf.line_height
    x = pdf.l_margin + block.indent
    value_w = pdf.content_width - block.indent - block.label_width - 4
    for row in block.rows:
        if pdf.will_page_break(h):
            pdf.add_page()
        pdf.set_x(x)
        y = pdf.get_y()
        pdf.multi_cell(block.label_width, h, row.label, align="L")
        label_bottom, label_page = pdf.get_y(), pdf.page
        pdf.set_xy(x + block.label_width, y)
        pdf.cell(4, h, ":")
        pdf.multi_cell(value_w, h, row.value or "-", align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if pdf.page == label_page and pdf.get_y() < label_bottom:
            pdf.set_y(label_bottom)
    pdf.ln(h * 0.4)


def _marker(style: str, index: int) -> str:
    if style == "a":
        return f"{chr(ord('a') + index % 26)}."
    if style == "-":
        return "-"
    return f"{index + 1}."


def _list(pdf: OfficialPdf, block: m.ListBlock) -> None:
    h = pdf.line_height
    x = pdf.l_margin + block.indent
    for index, runs in enumerate(block.items):
        if pdf.will_page_break(h):
            pdf.add_page()
        pdf.set_x(x)
        pdf.cell(8, h, _marker(block.style, index))
        _runs(pdf, runs, Align.J, x + 8, 0, h * 0.15)
    pdf.ln(h * 0.3)


def _table(pdf: OfficialPdf, block: m.Table) -> None:
    _font(pdf, "", -1.5)
    total = sum(block.widths)
    widths = tuple(w * pdf.content_width / total for w in block.widths)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=pdf.line_height * 0.85,
                   first_row_as_headings=block.head_rows > 0,
                   num_heading_rows=max(block.head_rows, 1) if block.head_rows else 1,
                   repeat_headings=1, padding=1.2) as table:
        for cells in block.rows:
            row = table.row()
            for text in cells:
                row.cell(text)
    _font(pdf)
    pdf.ln(pdf.line_height * 0.5)


def _choices(pdf: OfficialPdf, block: m.Choices) -> None:
    h = pdf.line_height
    pdf.cell(30, h, block.label)
    pdf.cell(4, h, ":")
    for text, checked in block.options:
        width = pdf.get_string_width(text) + 9
        if pdf.get_x() + width > pdf.w - pdf.r_margin:
            pdf.ln(h)
            pdf.set_x(pdf.l_margin + 34)
        x, y = pdf.get_x(), pdf.get_y() + (h - 3.5) / 2
        pdf.rect(x, y, 3.5, 3.5)
        if checked:
            pdf.line(x, y, x + 3.5, y + 3.5)
            pdf.line(x + 3.5, y, x, y + 3.5)
        pdf.set_x(x + 5)
        pdf.cell(width - 5, h, text)
    pdf.ln(h * 1.4)


def _line_count(pdf: OfficialPdf, sig: m.Signature, width: float) -> int:
    count = 0
    for line in sig.lines:
        lines = pdf.multi_cell(width, pdf.line_height, line, dry_run=True, output="LINES")
        count += len(lines) if isinstance(lines, list) else 1
    return count


def _signatures(pdf: OfficialPdf, block: m.Signatures) -> None:
    """One block on the right half, or two side by side (left and right)."""
    half = pdf.content_width / 2
    width = half - 4
    head_lines = max(_line_count(pdf, s, width) for s in block.blocks)
    if pdf.will_page_break(pdf.line_height * (head_lines + 4) + SIGNATURE_SPACE):
        pdf.add_page()
    top = pdf.get_y() + pdf.line_height * 0.5
    columns = [pdf.l_margin + half] if len(block.blocks) == 1 else [
        pdf.l_margin, pdf.l_margin + half]
    bottom = top
    for x, sig in zip(columns, block.blocks, strict=False):
        bottom = max(bottom, _one_signature(pdf, sig, x, top, width,
                                            top + pdf.line_height * head_lines))
    pdf.set_xy(pdf.l_margin, bottom + pdf.line_height)


def _one_signature(pdf: OfficialPdf, sig: m.Signature, x: float, y: float,
                   width: float, head_bottom: float) -> float:
    """Position lines from `y`; the name at the same height in every column."""
    h = pdf.line_height
    pdf.set_xy(x, y)
    for line in sig.lines:
        pdf.set_x(x)
        pdf.multi_cell(width, h, line, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), head_bottom))
    if sig.anchor:
        # The national signing service looks for this character to place the visual
        # signature: printed tiny and white, it is found in the text but not seen.
        pdf.set_text_color(255)
        pdf.set_font(FAMILY, "", ANCHOR_PT)
        pdf.set_xy(x, pdf.get_y() + 2)
        pdf.cell(2, 1, sig.anchor)
        pdf.set_text_color(0)
        _font(pdf)
        pdf.set_xy(x, pdf.get_y() - 2)
    pdf.set_y(pdf.get_y() + SIGNATURE_SPACE)
    _font(pdf, "BU")
    pdf.set_x(x)
    pdf.multi_cell(width, h, sig.name, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    _font(pdf)
    for line in (sig.rank, f"NIP. {sig.nip}" if sig.nip else ""):
        if line:
            pdf.set_x(x)
            pdf.multi_cell(width, h, line, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    return float(pdf.get_y())


def _tembusan(pdf: OfficialPdf, block: m.Tembusan) -> None:
    if not block.items:
        return
    h = pdf.line_height
    if pdf.will_page_break(h * 2):
        pdf.add_page()
    _font(pdf, "", -1)
    pdf.cell(0, h, "Tembusan:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    last = len(block.items) - 1
    for index, item in enumerate(block.items):
        end = "." if index == last else ";"
        pdf.cell(7, h, f"{index + 1}.")
        pdf.multi_cell(pdf.content_width - 7, h, item.rstrip(".;") + end, align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _font(pdf)


def _note(pdf: OfficialPdf, block: m.Note) -> None:
    _font(pdf, "I", -2.5)
    pdf.multi_cell(0, pdf.line_height * 0.8, block.text, align="L",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _font(pdf)


def _space(pdf: OfficialPdf, block: m.Space) -> None:
    pdf.ln(block.mm)


def _figure(pdf: OfficialPdf, block: m.Figure) -> None:
    png = pdf.figures.get(block.ref)
    if png is None:
        raise m.MarkupError(f"<figure ref={block.ref!r}>: tidak ada gambar bernama itu")
    with Image.open(io.BytesIO(png)) as picture:
        ratio = picture.height / picture.width
    width = min(block.width, pdf.epw)
    height = width * ratio
    if pdf.will_page_break(height + pdf.line_height * 2):
        pdf.add_page()
    pdf.image(io.BytesIO(png), x=pdf.l_margin + (pdf.epw - width) / 2, w=width, h=height)
    if block.caption:
        _font(pdf, "I", -1.5)
        pdf.multi_cell(0, pdf.line_height * 0.9, block.caption, align="C",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        _font(pdf)


_BLOCKS: dict[type, Callable[[OfficialPdf, Any], None]] = {
    m.Heading: _heading, m.Meta: _meta, m.Address: _address, m.Paragraph: _paragraph,
    m.Section: _section, m.Fields: _fields, m.ListBlock: _list, m.Table: _table,
    m.Choices: _choices, m.Signatures: _signatures, m.Tembusan: _tembusan, m.Note: _note,
    m.Space: _space, m.Figure: _figure, m.Kop: lambda pdf, block: None,
}
