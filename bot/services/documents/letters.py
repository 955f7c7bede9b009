"""Issuing a request's documents: number from the register, render, sign (when a
certificate is configured), then keep the file and record its hash, in that order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import Agency, Document, Person, Request
from bot.errors import ConfigError
from bot.services.audit import chain as audit
from bot.services.documents.case_file import case_file, official
from bot.services.documents.numbering import allocate_number, cancel_number
from bot.services.documents.registry import issue_document, new_code
from bot.services.documents.stationery import Stationery
from bot.services.people.officials import role_holders, stand_ins
from bot.services.requests.records import find_request
from bot.workflow.refusals import NotAllowed
from bot.workflow.sop import Role
from letters.facts import Case, Issue, Official, Party
from letters.kinds import KINDS
from letters.page import Authenticity
from letters.render import Sender, render_pdf
from letters.signing import DocumentSigner, Pkcs12Signer, SigningError, SignRequest
from letters.timefmt import local_date

SIGNED_NOTICE = ("Dokumen ini ditandatangani secara elektronik; setiap perubahan pada berkas "
                 "membatalkan tanda tangannya.")
# Which document signature field each kind gets, and why its signer signs.
_SIGN_REASONS = {"surat_permohonan": "Permohonan restore",
                 "disposisi": "Lembar disposisi",
                 "laporan": "Pengesahan laporan restore",
                 "surat_pemberitahuan": "Pemberitahuan hasil restore"}


def configured_signer(c: Container) -> DocumentSigner | None:
    """The office's certificate signer, or None when none is configured."""
    s = c.settings
    if s.signing_p12 is None or s.signing_passphrase_file is None:
        return None
    try:
        passphrase = s.signing_passphrase_file.read_bytes().strip()
    except OSError as exc:
        raise ConfigError([f"PULIH_SIGNING_PASSPHRASE_FILE: {s.signing_passphrase_file} tidak "
                           f"dapat dibaca ({exc.strerror})"]) from exc
    return Pkcs12Signer(s.signing_p12, passphrase)


@dataclass(frozen=True)
class IssuedLetter:
    document_id: int
    kind: str
    number: str | None
    code: str
    path: Path
    content: bytes
    signed: bool


def head_of_office(session: Session, today: date) -> Official | None:
    """The Kepala Dinas, or the Plh./Plt. standing in for them today (who then signs,
    with the acting title)."""
    kadis = next(iter(role_holders(session, Role.KADIS)), None)
    if kadis is None:
        return None
    standing = stand_ins(session, Role.KADIS, today, [kadis])
    if not standing:
        return official(kadis)
    delegate = standing[0].delegate
    title = kadis.jabatan or "Kepala Dinas"
    return Official(delegate.name, f"{standing[0].kind} {title}", delegate.pangkat,
                    delegate.nip)


def signer_for(session: Session, kind: str, request: Request, case: Case,
               st: Stationery, today: date) -> Official:
    """Who signs: the agency's head or the official the inventory names (request letter),
    the Kepala Dinas (disposition sheet), the report's author (report), and the Kepala
    Dinas or, a.n., the Kepala Bidang (notification letter, by setting)."""
    letters, office_name = st.letters, st.office.name
    if kind == "surat_permohonan":
        return st.request_signer(case.agency)
    if kind == "laporan":
        author = session.get(Person, request.report_author_id or request.executor_id or 0)
        signer = official(author)
        if signer is None:
            raise SigningError("Laporan belum punya pembuat: restore belum dilaksanakan.")
        return signer
    kadis = head_of_office(session, today)
    if kind == "surat_pemberitahuan" and letters.notification_signer is Role.KABID:
        kabid = case.ratifier
        if kabid is not None:
            return Official(kabid.name, kabid.jabatan, kabid.pangkat, kabid.nip,
                            on_behalf=(f"a.n. Kepala {office_name}",))
    if kadis is None:
        raise SigningError("Inventaris belum memuat Kepala Dinas.")
    return kadis


def letter_terms(session: Session, st: Stationery, agency_id: int | None) -> dict[str, str]:
    """What a requester is told of the request letter Pulih will write: who signs it and
    how it is numbered."""
    party = Party("", code="")
    agency = session.get(Agency, agency_id) if agency_id is not None else None
    if agency is not None:
        party = Party(agency.name, code=agency.code)
    signer = st.request_signer(party)
    pattern = st.letter_pattern(party.code)
    return {"signer": f"{signer.jabatan}, {signer.name}" if signer.name else
            f"{signer.jabatan} (nama dan tanda tangan diisi di kantor Anda)",
            "number": "dari pola nomor surat kantor Anda" if pattern else
            "dikosongkan, diisi dari buku agenda kantor Anda"}


@dataclass(frozen=True)
class _Draft:
    """A request's document, ready to render: the facts and who signs."""

    request_id: int
    case: Case
    signer: Official


def _gather(c: Container, kind: str, request_key: str, st: Stationery,
            now: datetime) -> _Draft:
    if kind not in KINDS:
        raise ValueError(f"jenis dokumen tidak dikenal: {kind!r}")
    with c.sessions() as session:
        request = find_request(session, request_key)
        case = case_file(session, request)
        who = signer_for(session, kind, request, case, st, local_date(now, c.settings.timezone))
        return _Draft(request.id, case, who)


def _render(c: Container, kind: str, st: Stationery, draft: _Draft, number: str | None,
            now: datetime, authenticity: Authenticity) -> bytes:
    sender = Sender(st.agency_letterhead(draft.case) if kind == "surat_permohonan"
                    else st.letterhead, st.office.city)
    return render_pdf(kind, case=draft.case, issue=Issue(number, now, st.office.city,
                                                         draft.signer),
                      sender=sender, office=st.info, setup=st.setup,
                      authenticity=authenticity, zone=c.settings.timezone,
                      template_dir=st.letters.templates)


def issue_letter(c: Container, kind: str, request_key: str, *,
                 stationery_: Stationery | None = None, signer: DocumentSigner | None = None,
                 actor_id: int | None = None,
                 on_issued: Callable[[Session, Document], None] | None = None
                 ) -> IssuedLetter:
    """Number, render, sign and record one document of a request. `on_issued` runs in
    the transaction that records it (to send it, or to mark the job that ordered it)."""
    st = stationery_ or c.office.stationery
    now = c.clock()
    draft = _gather(c, kind, request_key, st, now)
    number: str | None = None
    unit, pattern = st.letters.unit_code, st.letters.numbering[kind]
    if kind == "surat_permohonan":
        # The agency's own number, kept verbatim; or one from the agency's own pattern
        # and register; or none (left blank for the agency's register).
        number = draft.case.letter_number
        unit = draft.case.agency.code
        pattern = st.letter_pattern(unit) or ""
    allocated = number is None and bool(pattern)
    if allocated:
        row = allocate_number(c.sessions, kind=kind, pattern=pattern, unit=unit,
                              classification=st.letters.classification,
                              security=st.letters.security_code, now=now,
                              zone=c.settings.timezone, request_id=draft.request_id)
        number = row.number
    try:
        code = new_code()
        with c.sessions() as session:
            seq, digest = audit.head_anchor(session)
        pdf = _render(c, kind, st, draft, number, now,
                      authenticity(c, code, SIGNED_NOTICE if signer else "",
                                   anchor=f"#{seq}:{digest[:16]}"))
        if signer is not None:
            pdf = signer.sign(pdf, SignRequest(
                field_name=f"TTE-{kind}", signer_name=draft.signer.name,
                reason=_SIGN_REASONS[kind], location=st.office.city))
        with c.unit_of_work() as session:
            document: Document = issue_document(
                session, kind=kind, content=pdf, folder=c.settings.data_dir / "documents",
                now=now, number=number, request_id=draft.request_id, actor_id=actor_id,
                code=code, signer=draft.signer,
                issuer=draft.case.agency.name if kind == "surat_permohonan"
                else st.office.name)
            if allocated and kind == "surat_permohonan":
                # The notification letter cites the agency's letter by this number.
                request = session.get(Request, draft.request_id)
                assert request is not None
                request.letter_number = number
                request.letter_date = local_date(now, c.settings.timezone)
            if on_issued is not None:
                on_issued(session, document)
            document_id, path = document.id, Path(document.file_path)
    except Exception:
        if allocated and number is not None:
            with c.unit_of_work() as session:
                cancel_number(session, number, "dokumen gagal dibuat", c.clock())
        raise
    return IssuedLetter(document_id, kind, number, code, path, pdf, signer is not None)


DRAFT_CODE = "KONSEP"
DRAFT_NOTICE = ("KONSEP - menunggu pengesahan; belum bernomor dan belum berlaku sebagai "
                "dokumen resmi.")


def draft_letter(c: Container, kind: str, request_key: str, *,
                 stationery_: Stationery | None = None) -> bytes:
    """The document as it stands now, unnumbered and marked KONSEP on every page: what an
    official reads before deciding (a report before ratification). Not recorded."""
    st = stationery_ or c.office.stationery
    now = c.clock()
    draft = _gather(c, kind, request_key, st, now)
    return _render(c, kind, st, draft, None, now,
                   Authenticity(DRAFT_CODE, "Pulih - konsep dokumen, belum berlaku",
                                DRAFT_NOTICE))


def authenticity(c: Container, code: str, notice: str = "", anchor: str = "") -> Authenticity:
    """What a document's footer prints to check it: the code, and the QR holding the
    verification page's address for it (the code with a word of explanation when the
    office has no verification page)."""
    base = c.settings.verify_url
    url = f"{base}/v/{code}" if base else ""
    return Authenticity(code, url or f"Pulih - kode verifikasi dokumen: {code}", notice,
                        anchor, url=url)



MAX_UPLOAD = 10 * 1024 * 1024  # a scanned, signed letter of a few pages


def register_request_letter(c: Container, request_key: str, content: bytes, *,
                            actor_id: int | None = None,
                            on_issued: Callable[[Session, Document], None] | None = None
                            ) -> IssuedLetter:
    """Keep the request letter an agency signed and uploaded, as its step-1 document.

    The agency's own number and signature stay as they are; Pulih records the file's
    hash and code so the copy in the file can be checked later. Refuses (NotAllowed,
    Indonesian) a file that is too large or not a readable PDF, and stores nothing then.
    """
    check_upload(content)
    with c.unit_of_work() as session:
        request = find_request(session, request_key)
        document = issue_document(
            session, kind="surat_permohonan", content=content,
            folder=c.settings.data_dir / "documents", now=c.clock(),
            number=request.letter_number, request_id=request.id, actor_id=actor_id,
            received=True, issuer=request.agency.name)
        if on_issued is not None:
            on_issued(session, document)
        return IssuedLetter(document.id, "surat_permohonan", request.letter_number,
                            document.verification_code, Path(document.file_path), content,
                            False)


def check_upload(content: bytes) -> None:
    """Refuse (NotAllowed, Indonesian) a request letter too large or not a readable PDF."""
    if len(content) > MAX_UPLOAD:
        raise NotAllowed(f"Berkas terlalu besar ({len(content) // (1024 * 1024)} MiB); "
                         f"batasnya {MAX_UPLOAD // (1024 * 1024)} MiB.")
    if not is_pdf(content):
        raise NotAllowed("Berkas ini bukan PDF yang dapat dibaca. Kirim surat permohonan "
                         "yang sudah ditandatangani dalam bentuk PDF.")


def is_pdf(content: bytes) -> bool:
    """A PDF a reader can open: the header, and a cross-reference pyHanko can parse."""
    if not content.startswith(b"%PDF-"):
        return False
    try:
        reader = PdfFileReader(BytesIO(content), strict=False)
        return int(reader.root["/Pages"]["/Count"]) > 0
    except Exception:
        return False
