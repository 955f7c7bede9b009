"""Issuing a request's documents from what was recorded: `pulih letters render` numbers,
renders, signs (when configured) and records them; `pulih letters verify` recognises each
one and refuses it with one byte changed; a signed one validates with pyHanko."""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.db.migrate import upgrade
from bot.db.models import Document, LetterNumber
from bot.inventory.loader import load_inventory
from bot.services.documents.letters import MAX_UPLOAD, head_of_office, register_request_letter
from bot.services.office.inventory_sync import sync_inventory
from bot.settings import load_settings
from bot.workflow.refusals import NotAllowed
from tests.support.case_records import AGENCY_LETTER, POINT, SHA, walk_to_report
from tests.support.cli import office_env, pulih
from tests.support.clock import WITA, month_year, office_day, running, tanggal
from tests.support.documents import render
from tests.support.office import NOW, PLH_WINDOW
from tests.support.pdf import contains, keep_png_pages, pdf_text

TICKET = f"PLH-{NOW.astimezone(WITA).year}-00001"
MONTH = month_year()  # the month and year of every number issued today




@pytest.fixture
def office(tmp_path: Path) -> dict[str, str]:
    env = office_env(tmp_path)
    container = bootstrap(load_settings(environ=env), running())
    upgrade(container.engine)
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(container.settings.inventory_path), NOW)
        assert walk_to_report(session).ticket == TICKET
    container.close()
    return env


def at(minutes: int) -> str:
    """How documents write the time `minutes` after NOW: '23 November 2026 10.10 WITA'."""
    moment = (NOW + timedelta(minutes=minutes)).astimezone(WITA)
    return f"{tanggal(moment.date())} {moment:%H.%M} WITA"


def issued_files(out: str, folder: Path) -> dict[str, Path]:
    files = {}
    for kind in ("surat_permohonan", "disposisi", "laporan", "surat_pemberitahuan"):
        match = re.search(rf"({re.escape(str(folder))}/{kind}-[A-Z0-9-]+\.pdf)", out)
        assert match, out
        files[kind] = Path(match.group(1))
    return files


@pytest.mark.dates
def test_the_four_documents_are_issued_from_the_record_and_verified(
        office: dict[str, str], tmp_path: Path) -> None:
    out_dir = tmp_path / "keluar"
    result = pulih(office, "letters", "render", "semua", "--request", TICKET, "--out",
                   str(out_dir))
    assert result.returncode == 0, result.stderr
    files = issued_files(result.stdout, out_dir)
    assert f"nomor 1/Diskominfo/000.6/{MONTH}" in result.stdout  # the disposition sheet
    assert f"nomor B-3/Diskominfo/000.6/{MONTH}" in result.stdout  # the notification letter

    texts = {kind: pdf_text(path.read_bytes(), tmp_path) for kind, path in files.items()}
    for field in (AGENCY_LETTER, "Tabel siswa rusak setelah pembaruan.",
                  "Portal tidak dapat dibuka.", "Andi Saputra 0812-0000-1111",
                  tanggal(office_day())):
        assert contains(texts["surat_permohonan"], field), field
    for field in ("Ahmad Rizali", "Fajar Setiawan", "Proses lebih lanjut: Mohon segera",
                  "Gunakan backup malam terakhir.", at(10), f"Paraf elektronik Fajar "
                  f"Setiawan {(NOW + timedelta(minutes=25)).astimezone(WITA):%H.%M}", TICKET):
        assert contains(texts["disposisi"], field), field
    for field in (f"Nomor: 2/Diskominfo/000.6/{MONTH}", "backup-dc", POINT,
                  at(-660), SHA[:40], "Pemindahan berkas backup",
                  "Salinan sementara: tabel dan baris", "Sesuai: 2 tabel, 1280 baris",
                  "HTTP 200", "12 menit (Mutu Baku", "Dimas Pratama", "Fajar Setiawan"):
        assert contains(texts["laporan"], field), field
    # The test inventory has Hendra Gunawan as Plh. of the Kepala Dinas around the tests'
    # day: inside that window the Plh. signs, with the acting title.
    for field in (f"B-3/Diskominfo/000.6/{MONTH}", "1 (satu) berkas",
                  f"Menindaklanjuti surat Saudara Nomor {AGENCY_LETTER}",
                  "dengan hasil Berhasil", "Plh. Kepala Dinas,", "Hendra Gunawan"):
        assert contains(texts["surat_pemberitahuan"], field), field

    for kind, path in files.items():
        ok = pulih(office, "letters", "verify", str(path))
        assert ok.returncode == 0, ok.stderr
        assert "ASLI" in ok.stdout and TICKET in ok.stdout
        changed = bytearray(path.read_bytes())
        changed[len(changed) // 3] ^= 0x01
        path.write_bytes(bytes(changed))
        bad = pulih(office, "letters", "verify", str(path))
        assert bad.returncode == 1 and "TIDAK DIKENAL" in bad.stderr, kind
    assert pulih(office, "audit", "verify").returncode == 0


@pytest.mark.slow
@pytest.mark.dates
def test_the_code_printed_on_the_page_finds_the_record(office: dict[str, str],
                                                        tmp_path: Path) -> None:
    result = pulih(office, "letters", "render", "laporan", "--request", TICKET, "--out",
                   str(tmp_path))
    assert result.returncode == 0, result.stderr
    text = pdf_text(next(tmp_path.glob("laporan-*.pdf")).read_bytes(), tmp_path)
    code = re.search(r"Kode verifikasi: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{2})", text)
    assert code
    found = pulih(office, "letters", "verify", "--code", code.group(1))
    assert found.returncode == 0, found.stderr
    assert "Laporan Restore" in found.stdout and f"1/Diskominfo/000.6/{MONTH}" in found.stdout
    # The activity record's head when it was issued: a reader can hold the record to it.
    anchor = re.search(r"Jangkar catatan kegiatan: (#\d+:[0-9a-f]{16})", text)
    assert anchor
    held = pulih(office, "audit", "verify", "--anchor", anchor.group(1))
    assert held.returncode == 0 and f"Jangkar {anchor.group(1)} cocok." in held.stdout


def test_an_office_template_that_reaches_for_python_internals_runs_nothing(
        office: dict[str, str], tmp_path: Path) -> None:
    canary = tmp_path / "KENA"
    own = tmp_path / "templat"
    own.mkdir()
    (own / "laporan.xml.j2").write_text(
        '<document>\n<p>Laporan</p>\n'
        f"{{{{ cycler.__init__.__globals__.os.popen('touch {canary}').read() }}}}\n"
        "</document>\n")
    inventory = Path(office["PULIH_INVENTORY"])
    inventory.write_text(inventory.read_text() + f'\n[letters]\ntemplates = "{own}"\n')
    result = pulih(office, "letters", "render", "laporan", "--request", TICKET, "--out",
                   str(tmp_path / "keluar"))
    assert result.returncode == 1
    assert ("Templat tidak dapat dipakai: laporan.xml.j2 baris 3: templat mencoba akses "
            "yang tidak diizinkan") in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not canary.exists()
    assert not (tmp_path / "keluar").exists() or not list((tmp_path / "keluar").iterdir())


@pytest.mark.slow
@pytest.mark.dates
def test_a_failed_rendering_cancels_its_number_and_keeps_it(office: dict[str, str],
                                                            tmp_path: Path) -> None:
    broken = tmp_path / "templat"
    broken.mkdir()
    (broken / "laporan.xml.j2").write_text("<document><tidak-dikenal/></document>")
    inventory = Path(office["PULIH_INVENTORY"])
    assert "[letters]" not in inventory.read_text()
    inventory.write_text(inventory.read_text() + f'\n[letters]\ntemplates = "{broken}"\n')
    result = pulih(office, "letters", "render", "laporan", "--request", TICKET, "--out",
                   str(tmp_path / "keluar"))
    assert result.returncode == 1
    assert "Templat laporan.xml.j2 tidak dapat dipakai" in result.stderr
    assert "Traceback" not in result.stderr
    container = bootstrap(load_settings(environ=office), running())
    with container.sessions() as session:
        numbers = session.execute(select(LetterNumber)).scalars().all()
        assert [(n.number, n.status) for n in numbers] == [
            (f"1/Diskominfo/000.6/{MONTH}", "cancelled")]
        assert session.execute(select(Document)).scalars().all() == []
    container.close()
    result = pulih(office, "letters", "render", "disposisi", "--request", TICKET, "--out",
                   str(tmp_path / "keluar"))
    assert f"nomor 2/Diskominfo/000.6/{MONTH}" in result.stdout  # never reused


@pytest.mark.slow
def test_a_signed_report_validates_and_breaks_when_altered(office: dict[str, str],
                                                           tmp_path: Path) -> None:
    made = pulih(office, "letters", "dev-cert", "--out", str(tmp_path / "ttd"))
    assert made.returncode == 0, made.stderr
    p12, passfile = tmp_path / "ttd" / "dev.p12", tmp_path / "ttd" / "dev.p12.pass"
    assert oct(passfile.stat().st_mode & 0o777) == "0o600"
    assert passfile.read_text().strip() not in made.stdout  # the secret stays in its file
    env = {**office, "PULIH_SIGNING_P12": str(p12), "PULIH_SIGNING_PASSPHRASE_FILE":
           str(passfile)}
    result = pulih(env, "letters", "render", "laporan", "--request", TICKET, "--out",
                   str(tmp_path / "keluar"))
    assert result.returncode == 0, result.stderr
    assert "ditandatangani secara elektronik" in result.stdout
    signed = next((tmp_path / "keluar").glob("laporan-*.pdf"))
    data = signed.read_bytes()

    _, cert, _ = pkcs12.load_key_and_certificates(p12.read_bytes(),
                                                  passfile.read_bytes().strip())
    assert cert is not None
    trust = ValidationContext(trust_roots=[asn1_x509.Certificate.load(
        cert.public_bytes(Encoding.DER))])

    def status(content: bytes) -> tuple[bool, bool, str]:
        signature = PdfFileReader(BytesIO(content)).embedded_signatures[0]
        checked = validate_pdf_signature(signature, trust)
        return checked.intact, checked.bottom_line, str(signature.sig_object["/SubFilter"])

    assert status(data) == (True, True, "/ETSI.CAdES.detached")
    assert pulih(env, "letters", "verify", str(signed)).returncode == 0
    altered = bytearray(data)
    altered[len(altered) // 2] ^= 0x01
    assert status(bytes(altered))[:2] == (False, False)
    text = pdf_text(data, tmp_path)
    assert "ditandatangani secara elektronik" in text and "$" in text and "#" in text


def test_an_uploaded_signed_request_letter_is_registered_and_fakes_are_refused(
        office: dict[str, str], tmp_path: Path) -> None:
    container = bootstrap(load_settings(environ=office), running())
    scanned = render("surat_permohonan")  # stands in for the agency's own signed PDF
    try:
        for content, message in (
                (b"%PDF-1.7\nbukan pdf sungguhan\n%%EOF", "bukan PDF yang dapat dibaca"),
                (b"MZ\x90\x00 program", "bukan PDF yang dapat dibaca"),
                (scanned + b"\0" * (MAX_UPLOAD + 1), "terlalu besar")):
            with pytest.raises(NotAllowed, match=message):
                register_request_letter(container, TICKET, content)
        with container.sessions() as session:
            assert session.execute(select(Document)).scalars().all() == []
        letter = register_request_letter(container, TICKET, scanned)
        assert letter.number == AGENCY_LETTER
    finally:
        container.close()
    copy = tmp_path / "surat.pdf"
    copy.write_bytes(scanned)
    checked = pulih(office, "letters", "verify", str(copy))
    # Known, and said to be an upload: never vouched for as a document Pulih issued.
    assert checked.returncode == 3, checked.stderr
    assert checked.stdout.startswith(f"DITERIMA, BUKAN TERBITAN PULIH: {copy} adalah berkas "
                                     "yang diunggah ke Pulih")
    assert "ASLI" not in checked.stdout and AGENCY_LETTER in checked.stdout
    by_code = pulih(office, "letters", "verify", "--code", letter.code)
    assert by_code.returncode == 3 and "BUKAN TERBITAN PULIH" in by_code.stdout
    assert "tidak berubah sejak itu" not in by_code.stdout  # no bytes were seen


@pytest.mark.dates
@pytest.mark.parametrize(("today", "name", "title"), [
    (office_day(0), "Hendra Gunawan", "Plh. Kepala Dinas"),
    (PLH_WINDOW[1], "Hendra Gunawan", "Plh. Kepala Dinas"),
    (office_day(-8), "Lukas Tandi", "Plh. Kepala Dinas"),
    (office_day(8), "Ahmad Rizali", "Kepala Dinas"),
])
def test_the_acting_official_signs_inside_the_window(office: dict[str, str], today: date,
                                                     name: str, title: str) -> None:
    container = bootstrap(load_settings(environ=office), running())
    with container.sessions() as session:
        signer = head_of_office(session, today)
    container.close()
    assert signer is not None and (signer.name, signer.jabatan) == (name, title)


@pytest.mark.dates
def test_the_four_documents_cite_the_agency_letter_as_tata_naskah_dinas_places_it(
        office: dict[str, str], tmp_path: Path) -> None:
    """A request filed with the agency's own letter number: the request letter carries it
    as its number and is signed by the agency's head (the requester only files it), the
    disposition sheet and the report cite it, and the notification letter answers it by
    number and date, naming the ticket only as the ticket, and asks for the receipt
    within step 8's Mutu Baku. PNGs of every page are kept as artifacts."""
    out_dir = tmp_path / "keluar"
    result = pulih(office, "letters", "render", "semua", "--request", TICKET, "--out",
                   str(out_dir))
    assert result.returncode == 0, result.stderr
    files = issued_files(result.stdout, out_dir)
    texts = {kind: pdf_text(path.read_bytes(), tmp_path) for kind, path in files.items()}
    for kind, path in files.items():
        assert keep_png_pages(path.read_bytes(), f"agency-letter-{kind}")

    request = texts["surat_permohonan"]
    assert contains(request, f"Nomor : {AGENCY_LETTER}")
    assert contains(request, "Kepala Dinas Pendidikan dan Kebudayaan,")
    assert "(......" in request and "NIP. ......" in request  # signed by hand, by the head
    assert "Andi Saputra" in request  # as the contact, not the signer
    assert not contains(request, "Andi Saputra NIP")
    assert contains(texts["disposisi"], f"Nomor surat : {AGENCY_LETTER}")
    assert contains(texts["laporan"], f"Nomor {AGENCY_LETTER}")
    notice = texts["surat_pemberitahuan"]
    assert contains(notice, f"Menindaklanjuti surat Saudara Nomor {AGENCY_LETTER} tanggal "
                            f"{tanggal(office_day())}")
    assert contains(notice, f"(nomor tiket {TICKET})")
    assert f"Nomor {TICKET}" not in " ".join(notice.split())
    assert contains(notice, "paling lambat 15 (lima belas) menit setelah surat ini diterima")
    assert "hari kerja" not in notice
    # One month style for the office: every number Pulih gave has the month in digits.
    numbers = re.findall(r"\b(?:B-)?\d+/Diskominfo/000\.6/([0-9IVX]+)/\d{4}\b",
                         " ".join(texts.values()))
    assert numbers and set(numbers) == {MONTH.split("/")[0]}


@pytest.mark.dates
def test_a_request_without_a_letter_gets_the_agencys_signer_and_number_or_a_blank(
        tmp_path: Path) -> None:
    """Filed in chat without a letter number: the agency's named official signs; with the
    agency's pattern Pulih numbers the letter in that agency's register and the
    notification cites it; without one the number is left for the agency to write."""
    env = office_env(tmp_path)
    inventory = Path(env["PULIH_INVENTORY"])
    inventory.write_text(inventory.read_text().replace(
        'name = "Dinas Pendidikan dan Kebudayaan"\n',
        'name = "Dinas Pendidikan dan Kebudayaan"\n'
        'letter_signer = { name = "Dr. H. Thamrin, M.Pd.", jabatan = "Kepala Dinas '
        'Pendidikan dan Kebudayaan", pangkat = "Pembina Utama Muda (IV/c)", '
        'nip = "197005121995031003" }\n'
        'letter_pattern = "{security}-{seq}/DISDIKBUD/{classification}/{month:02d}/{year}"\n',
        1))
    container = bootstrap(load_settings(environ=env), running())
    upgrade(container.engine)
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(inventory), NOW)
        first = walk_to_report(session, letter_number=None).ticket
    container.close()
    out_dir = tmp_path / "keluar"
    result = pulih(env, "letters", "render", "semua", "--request", first, "--out",
                   str(out_dir))
    assert result.returncode == 0, result.stderr
    files = issued_files(result.stdout, out_dir)
    texts = {kind: pdf_text(path.read_bytes(), tmp_path) for kind, path in files.items()}
    agency_number = f"B-1/DISDIKBUD/000.6/{MONTH}"
    assert contains(texts["surat_permohonan"], f"Nomor : {agency_number}")
    for field in ("Dr. H. Thamrin, M.Pd.", "Pembina Utama Muda (IV/c)",
                  "NIP. 197005121995031003"):
        assert contains(texts["surat_permohonan"], field), field
    assert contains(texts["surat_pemberitahuan"],
                    f"Menindaklanjuti surat Saudara Nomor {agency_number}")

    # Without the agency's pattern, the number is left blank for its register.
    inventory.write_text("\n".join(line for line in inventory.read_text().splitlines()
                                   if not line.startswith("letter_pattern")))
    container = bootstrap(load_settings(environ=env), running())
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(inventory), NOW)
        second = walk_to_report(session, letter_number=None).ticket
    container.close()
    result = pulih(env, "letters", "render", "surat_permohonan", "--request", second,
                   "--out", str(tmp_path / "kedua"))
    assert result.returncode == 0, result.stderr
    (letter,) = (tmp_path / "kedua").glob("surat_permohonan-*.pdf")
    text = pdf_text(letter.read_bytes(), tmp_path, layout=True)
    assert re.search(r"Nomor\s+: \.{40}", text), text[:600]
    keep_png_pages(letter.read_bytes(), "agency-letter-unnumbered")
