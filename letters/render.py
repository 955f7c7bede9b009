"""Documents from templates: jinja2 writes the words (autoescaped, so user text stays
literal), `letters.compose` sets them on official pages with fpdf2."""

from __future__ import annotations

import functools
import re
import traceback
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from letters.compose import compose
from letters.facts import Case, DrillReport, IncidentSummary, Issue, MonthlyFigures, Official
from letters.kinds import KINDS, OFFICE_KINDS
from letters.markup import parse
from letters.page import Authenticity, Letterhead, OfficialPdf, PageSetup
from letters.timefmt import as_utc, durasi, tanggal, tenggat, ukuran, waktu

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Characters XML 1.0 cannot carry (C0 controls other than tab and newline, lone
# surrogates, U+FFFE/U+FFFF): shown as the replacement character, never dropped silently.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class OfficeInfo:
    """How the documents name the office and whom they copy."""

    head: str = "Kepala Dinas Komunikasi dan Informatika Kabupaten Kutai Kartanegara"
    city: str = "Tenggarong"
    contact: str = ""
    tembusan: tuple[str, ...] = ("Bupati Kutai Kartanegara (sebagai laporan)", "Arsip")
    sop_title: str = ("Standar Operasional Prosedur Restore VPS/VM Database dan Aplikasi "
                      "Server Dinas Komunikasi dan Informatika Kabupaten Kutai Kartanegara")


LONG_NOTE = 300  # longer disposition notes go below the chain table, not into a cell


@dataclass(frozen=True)
class Sender:
    """The unit whose letterhead and place the document carries."""

    letterhead: Letterhead
    place: str


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Markup):
        return _NOT_XML.sub("\ufffd", value)
    return value


@functools.lru_cache(maxsize=8)
def environment(extra_dir: Path | None, zone: ZoneInfo) -> Environment:
    """Templates from the office's own folder first (when set), then Pulih's; built once
    per folder and zone (jinja2 reloads a template whose file changed)."""
    loaders = [FileSystemLoader(str(extra_dir))] if extra_dir else []
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    # An office's own copy of a template is input: sandboxed, it can read the facts it is
    # given and nothing else (no attributes that lead to Python's internals, no calls
    # that change them).
    env = ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined,
        finalize=_finalize, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)

    def tgl(value: date | datetime | None) -> str:
        if value is None:
            return "-"
        if isinstance(value, datetime):
            return tanggal(as_utc(value).astimezone(zone).date())
        return tanggal(value)

    def wkt(value: datetime | None) -> str:
        return waktu(value, zone) if value is not None else "-"

    def jam(value: datetime | None) -> str:
        return f"{as_utc(value).astimezone(zone):%H.%M}" if value is not None else "-"

    def lines(value: str) -> Markup:
        text = _NOT_XML.sub("\ufffd", value)
        return Markup("<br/>").join(escape(part) for part in text.splitlines())

    def dur(value: timedelta | None) -> str:
        return durasi(value) if value is not None else "-"

    env.filters.update(tanggal=tgl, waktu=wkt, jam=jam, lines=lines, durasi=dur,
                       ukuran=ukuran, tenggat=tenggat)
    return env


def render_markup(kind: str, *, case: Case, issue: Issue, sender: Sender, office: OfficeInfo,
                  zone: ZoneInfo, ratifier: Official | None = None,
                  template_dir: Path | None = None) -> str:
    """The document in the page vocabulary (see `letters.markup`)."""
    if kind not in KINDS:
        raise ValueError(f"jenis dokumen tidak dikenal: {kind!r}")
    duration = (case.restore_finished - case.restore_started
                if case.restore_finished and case.restore_started else None)
    long_notes = [i for i, hop in enumerate(case.hops, start=1) if len(hop.note) > LONG_NOTE
                  or "\n" in hop.note]
    try:
        template = environment(template_dir, zone).get_template(f"{kind}.xml.j2")
        return template.render(case=case, issue=issue, sender=sender, kind_label=KINDS[kind],
                               office_head=office.head, office_city=office.city,
                               contact_office=office.contact, tembusan=office.tembusan,
                               sop_title=office.sop_title, ratifier=ratifier or case.ratifier,
                               duration=duration, long_notes=long_notes)
    except TemplateError as exc:
        raise TemplateError(f"{_where(exc, kind)}: {_why(exc)}") from exc


def _where(exc: TemplateError, kind: str) -> str:
    """'laporan.xml.j2 baris 12': the template file and line an error came from."""
    if isinstance(exc, TemplateSyntaxError) and exc.lineno:
        return f"{Path(exc.filename or kind + '.xml.j2').name} baris {exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
    if frames:
        return f"{Path(frames[-1].filename).name} baris {frames[-1].lineno}"
    return f"{kind}.xml.j2"


def _why(exc: TemplateError) -> str:
    if isinstance(exc, SecurityError):
        return f"templat mencoba akses yang tidak diizinkan ({exc.message})"
    return exc.message or type(exc).__name__


def needs_shaping(text: str) -> bool:
    """Whether any character needs a shaping engine: right-to-left scripts, combining
    marks, or scripts beyond Latin, Greek and Cyrillic."""
    return any(0x0590 <= ord(ch) < 0x1E00 or unicodedata.combining(ch)
               or unicodedata.bidirectional(ch) in ("R", "AL", "AN") for ch in text)


def render_pdf(kind: str, *, case: Case, issue: Issue, sender: Sender, office: OfficeInfo,
               setup: PageSetup, authenticity: Authenticity, zone: ZoneInfo,
               ratifier: Official | None = None, template_dir: Path | None = None) -> bytes:
    """The unsigned PDF of one document."""
    xml = render_markup(kind, case=case, issue=issue, sender=sender, office=office, zone=zone,
                        ratifier=ratifier, template_dir=template_dir)
    return _laid_out(xml, f"{KINDS[kind]} {case.ticket}", issue, sender, setup, authenticity)


def _laid_out(xml: str, subject: str, issue: Issue, sender: Sender, setup: PageSetup,
              authenticity: Authenticity, figures: dict[str, bytes] | None = None) -> bytes:
    """The page vocabulary set on official pages, as PDF bytes."""
    pdf = OfficialPdf(setup, sender.letterhead, authenticity, shaping=needs_shaping(xml))
    pdf.set_author(issue.signer.name)
    pdf.set_subject(subject)
    pdf.set_creation_date(as_utc(issue.issued_at))
    compose(pdf, parse(xml), figures)
    return bytes(pdf.output())


SUMMARY = "ringkasan_insiden"
DRILL = "laporan_uji"
MONTHLY = "laporan_bulanan"


def render_summary_pdf(summary: IncidentSummary, *, issue: Issue, sender: Sender,
                       office: OfficeInfo, setup: PageSetup, authenticity: Authenticity,
                       zone: ZoneInfo, template_dir: Path | None = None) -> bytes:
    """The unsigned PDF of a closed incident's summary."""
    return _office_pdf(SUMMARY, summary.code, {"summary": summary}, issue=issue,
                       sender=sender, office=office, setup=setup,
                       authenticity=authenticity, zone=zone, template_dir=template_dir)


def render_drill_pdf(report: DrillReport, *, issue: Issue, sender: Sender,
                     office: OfficeInfo, setup: PageSetup, authenticity: Authenticity,
                     zone: ZoneInfo, template_dir: Path | None = None) -> bytes:
    """The unsigned PDF of a restore drill's report."""
    return _office_pdf(DRILL, f"{report.system} #{report.run}", {"drill": report},
                       issue=issue, sender=sender, office=office, setup=setup,
                       authenticity=authenticity, zone=zone, template_dir=template_dir)


def render_monthly_pdf(figures: MonthlyFigures, pictures: dict[str, bytes], *, issue: Issue,
                       sender: Sender, office: OfficeInfo, setup: PageSetup,
                       authenticity: Authenticity, zone: ZoneInfo,
                       template_dir: Path | None = None) -> bytes:
    """The unsigned PDF of a month's service report, with its charts (`pictures`, PNG)."""
    return _office_pdf(MONTHLY, f"{figures.month:%Y-%m}", {"f": figures}, issue=issue,
                       sender=sender, office=office, setup=setup,
                       authenticity=authenticity, zone=zone, template_dir=template_dir,
                       figures=pictures)


def _office_pdf(kind: str, subject: str, facts: dict[str, Any], *, issue: Issue,
                sender: Sender, office: OfficeInfo, setup: PageSetup,
                authenticity: Authenticity, zone: ZoneInfo,
                template_dir: Path | None, figures: dict[str, bytes] | None = None) -> bytes:
    """An office document (one of OFFICE_KINDS) from its template and facts."""
    try:
        template = environment(template_dir, zone).get_template(f"{kind}.xml.j2")
        xml = template.render(**facts, issue=issue, sender=sender, sop_title=office.sop_title)
    except TemplateError as exc:
        raise TemplateError(f"{_where(exc, kind)}: {_why(exc)}") from exc
    return _laid_out(xml, f"{OFFICE_KINDS[kind]} {subject}", issue, sender, setup,
                     authenticity, figures)
