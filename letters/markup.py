"""The small page vocabulary the document templates speak.

A template renders, with autoescaping, to XML in this vocabulary; parsing it back turns
every escaped `<b>` or `&` a user typed into the literal characters again, so user text
can never become markup. Elements (all text is literal; whitespace from the template is
collapsed, `<br/>` breaks a line):

    <document title="...">            the root; title goes into the PDF's metadata
    <kop/>                            the letterhead of the sender (first page only)
    <heading>..</heading>             centred bold line(s); <subheading> centred plain
    <meta date="Tenggarong, 1 Juni 2025"><row label="Nomor">..</row>..</meta>
    <address><line>Yth. ..</line>..</address>
    <p indent="1">text <b>bold</b> <i>italic</i></p>
    <section>A. PENDAHULUAN</section> bold heading, also a PDF bookmark
    <fields label-width="45" indent="10"><row label="Nama">..</row></fields>
    <list style="1|a|-" indent="10"><item>..</item></list>
    <table widths="8 40 .."><tr head="1"><td>..</td></tr></table>
    <choices label="Sifat"><choice checked="1">Segera</choice></choices>
    <signatures><signature anchor="#"><line>..</line><name>..</name><rank>..</rank>
        <nip>..</nip></signature></signatures>
    <tembusan><item>..</item></tembusan>
    <note>small print</note>
    <space mm="4"/>
    <figure ref="langkah" width="150">caption</figure>   a picture the code hands over
        under that name (a chart); a template can place it, never load one
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

_SPACE = re.compile(r"[ \t\r\n]+")


class MarkupError(ValueError):
    """A template produced something outside the vocabulary (a template bug)."""


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Kop:
    pass


@dataclass(frozen=True)
class Heading:
    text: str
    bold: bool = True


@dataclass(frozen=True)
class Row:
    label: str
    value: str


@dataclass(frozen=True)
class Meta:
    date: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Paragraph:
    runs: tuple[Run, ...]
    indent: bool = True
    align: str = "J"


@dataclass(frozen=True)
class Section:
    text: str


@dataclass(frozen=True)
class Fields:
    rows: tuple[Row, ...]
    label_width: float = 45.0
    indent: float = 0.0


@dataclass(frozen=True)
class ListBlock:
    items: tuple[tuple[Run, ...], ...]
    style: str = "1"
    indent: float = 0.0


@dataclass(frozen=True)
class Table:
    widths: tuple[float, ...]
    rows: tuple[tuple[str, ...], ...]
    head_rows: int = 1


@dataclass(frozen=True)
class Choices:
    label: str
    options: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Signature:
    lines: tuple[str, ...]
    name: str
    rank: str
    nip: str
    anchor: str = ""


@dataclass(frozen=True)
class Signatures:
    blocks: tuple[Signature, ...]


@dataclass(frozen=True)
class Tembusan:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Space:
    mm: float


@dataclass(frozen=True)
class Figure:
    ref: str
    width: float
    caption: str


Block = (Kop | Heading | Meta | Address | Paragraph | Section | Fields | ListBlock | Table
         | Choices | Signatures | Tembusan | Note | Space | Figure)


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)


def _runs(element: ET.Element, bold: bool = False, italic: bool = False) -> list[Run]:
    """Text with inline <b>, <i> and <br/>, template whitespace collapsed."""
    runs: list[Run] = []

    def add(text: str | None, b: bool, i: bool) -> None:
        if text:
            runs.append(Run(_SPACE.sub(" ", text), b, i))

    add(element.text, bold, italic)
    for child in element:
        if child.tag == "br":
            runs.append(Run("\n", bold, italic))
        elif child.tag in ("b", "i"):
            runs.extend(_runs(child, bold or child.tag == "b", italic or child.tag == "i"))
        else:
            raise MarkupError(f"<{child.tag}> tidak boleh di dalam <{element.tag}>")
        add(child.tail, bold, italic)
    return runs


def _tidy(runs: list[Run]) -> tuple[Run, ...]:
    """Trim spaces at the ends and around line breaks."""
    text_runs: list[Run] = []
    for run in runs:
        if run.text == "\n" and text_runs:
            last = text_runs[-1]
            text_runs[-1] = Run(last.text.rstrip(" "), last.bold, last.italic)
        elif text_runs and text_runs[-1].text == "\n":
            run = Run(run.text.lstrip(" "), run.bold, run.italic)
        text_runs.append(run)
    if text_runs:
        first, last = text_runs[0], text_runs[-1]
        text_runs[0] = Run(first.text.lstrip(" "), first.bold, first.italic)
        last = text_runs[-1]
        text_runs[-1] = Run(last.text.rstrip(" "), last.bold, last.italic)
    return tuple(r for r in text_runs if r.text)


def text_of(element: ET.Element) -> str:
    return "".join(r.text for r in _tidy(_runs(element)))


def _rows(element: ET.Element) -> tuple[Row, ...]:
    return tuple(Row(row.get("label", ""), text_of(row)) for row in element
                 if _expect(row, "row"))


def _expect(element: ET.Element, tag: str) -> bool:
    if element.tag != tag:
        raise MarkupError(f"<{element.tag}> tidak dikenal di sini; seharusnya <{tag}>")
    return True


def _number(element: ET.Element, name: str, default: float) -> float:
    raw = element.get(name)
    try:
        return float(raw) if raw is not None else default
    except ValueError as exc:
        raise MarkupError(f"atribut {name}={raw!r} bukan angka") from exc


def _block(element: ET.Element) -> Block:
    tag = element.tag
    if tag == "kop":
        return Kop()
    if tag in ("heading", "subheading"):
        return Heading(text_of(element), bold=tag == "heading")
    if tag == "meta":
        return Meta(element.get("date", ""), _rows(element))
    if tag == "address":
        return Address(tuple(text_of(line) for line in element if _expect(line, "line")))
    if tag == "p":
        return Paragraph(_tidy(_runs(element)), indent=element.get("indent", "1") == "1",
                         align=element.get("align", "J"))
    if tag == "section":
        return Section(text_of(element))
    if tag == "fields":
        return Fields(_rows(element), _number(element, "label-width", 45.0),
                      _number(element, "indent", 0.0))
    if tag == "list":
        return ListBlock(tuple(_tidy(_runs(item)) for item in element if _expect(item, "item")),
                         element.get("style", "1"), _number(element, "indent", 0.0))
    if tag == "table":
        return _table(element)
    if tag == "choices":
        return Choices(element.get("label", ""), tuple(
            (text_of(c), c.get("checked") == "1") for c in element if _expect(c, "choice")))
    if tag == "signatures":
        return Signatures(tuple(_signature(s) for s in element if _expect(s, "signature")))
    if tag == "signature":
        return Signatures((_signature(element),))
    if tag == "tembusan":
        return Tembusan(tuple(text_of(i) for i in element if _expect(i, "item")))
    if tag == "note":
        return Note(text_of(element))
    if tag == "space":
        return Space(_number(element, "mm", 4.0))
    if tag == "figure":
        return Figure(element.get("ref", ""), _number(element, "width", 150.0),
                      text_of(element))
    raise MarkupError(f"<{tag}> bukan bagian dari kosakata dokumen")


def _table(element: ET.Element) -> Table:
    try:
        widths = tuple(float(w) for w in element.get("widths", "").split())
    except ValueError as exc:
        raise MarkupError("widths tabel harus berupa angka") from exc
    rows: list[tuple[str, ...]] = []
    head = 0
    for tr in element:
        _expect(tr, "tr")
        cells = tuple(text_of(td) for td in tr if _expect(td, "td"))
        if len(cells) != len(widths):
            raise MarkupError(f"baris tabel berisi {len(cells)} sel, widths {len(widths)}")
        if tr.get("head") == "1":
            head += 1
        rows.append(cells)
    return Table(widths, tuple(rows), head)


def _signature(element: ET.Element) -> Signature:
    lines: list[str] = []
    parts = {"name": "", "rank": "", "nip": ""}
    for child in element:
        if child.tag == "line":
            lines.append(text_of(child))
        elif child.tag in parts:
            parts[child.tag] = text_of(child)
        else:
            raise MarkupError(f"<{child.tag}> tidak dikenal di dalam <signature>")
    return Signature(tuple(lines), parts["name"], parts["rank"], parts["nip"],
                     element.get("anchor", ""))


def parse(xml: str) -> Document:
    try:
        root = ET.fromstring(xml)  # noqa: S314 - our own template output, user text escaped
    except ET.ParseError as exc:
        raise MarkupError(f"templat menghasilkan XML yang rusak: {exc}") from exc
    if root.tag != "document":
        raise MarkupError("templat harus diawali <document>")
    return Document(root.get("title", ""), tuple(_block(child) for child in root))
