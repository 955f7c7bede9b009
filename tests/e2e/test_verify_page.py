"""Someone holding a letter checks it in a real browser (Debian's Chromium): the QR code on
the printed page opens the verification page, which shows the record and nothing more; an
unknown or a malformed code gets one neutral answer; the form tells the issued PDF from the
same PDF with one byte changed. Screenshots at phone and desktop widths are kept under
build/test-artifacts/web/."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from bot.demo.lab.loopback import free_port
from tests.support.browser import DESKTOP, PHONE, chromium, shot_path
from tests.support.clock import month_year, ticket, wita
from tests.support.office import NOW
from tests.support.qr import qr_of_first_page
from tests.support.verify_site import Site, the_office, verify_page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = the_office(tmp_path_factory.mktemp("kantor"), free_port())
    with verify_page(site):
        yield site


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def visit(browser: Browser, url: str, size: ViewportSize = PHONE) -> Page:
    page = browser.new_page(viewport=size, locale="id-ID")
    page.goto(url)
    return page


def main_text(page: Page) -> str:
    return page.inner_text("main")


@pytest.mark.dates
def test_the_qr_on_the_letter_opens_its_record_on_a_phone_and_a_desktop(
        site: Site, browser: Browser, tmp_path: Path) -> None:
    letter = site.documents["surat_pemberitahuan"]
    url = qr_of_first_page(letter.pdf, tmp_path)
    assert url == f"{site.base}/v/{letter.code}"
    for name, size in (("ponsel", PHONE), ("desktop", DESKTOP)):
        page = visit(browser, url, size)
        text = main_text(page)
        assert page.inner_text("#status") == "TERCATAT"
        assert "Surat Pemberitahuan" in text
        assert letter.number is not None and letter.number in text
        assert f"B-4/Diskominfo/000.6/{month_year()}" == letter.number
        assert wita(NOW) in text  # issued on the tests' clock, shown in WITA
        assert "Dinas Komunikasi dan Informatika" in text
        # The Plh. standing in for the Kepala Dinas today signs, with the acting title.
        assert "Hendra Gunawan" in text and "Plh. Kepala Dinas" in text
        assert hashlib.sha256(letter.pdf).hexdigest() in text
        # Nothing of the request itself: no ticket, system, reason, requester or host.
        for private in (ticket(), "portal-pendidikan", "Portal Pendidikan",
                        "Tabel siswa rusak", "Andi Saputra", "0812", "127.0.0.1"):
            assert private not in text, private
        page.screenshot(path=str(shot_path(f"catatan-{name}")), full_page=True)
        page.close()


def test_unknown_and_malformed_codes_get_the_same_neutral_answer(
        site: Site, browser: Browser) -> None:
    issued = site.documents["disposisi"].code
    unknown = "ZZZZ-ZZZZ-ZZ" if issued != "ZZZZ-ZZZZ-ZZ" else "YYYY-YYYY-YY"
    answers = {}
    for code in (unknown, "12", "<script>alert(1)</script>", "..%2F..%2Fetc%2Fpasswd",
                 issued[:-1] + ("2" if issued[-1] != "2" else "3")):
        page = visit(browser, f"{site.base}/v/{code}")
        answers[code] = main_text(page)
        assert page.inner_text("#status") == "TIDAK DAPAT DIKONFIRMASI"
        if code == unknown:
            page.screenshot(path=str(shot_path("tidak-dikenal-ponsel")), full_page=True)
        page.close()
    assert len(set(answers.values())) == 1, answers
    assert not any(code in text for code, text in answers.items())


def test_the_form_accepts_the_issued_pdf_and_rejects_one_changed_byte(
        site: Site, browser: Browser, tmp_path: Path) -> None:
    report = site.documents["laporan"]
    issued, changed = tmp_path / "laporan.pdf", tmp_path / "laporan-diubah.pdf"
    issued.write_bytes(report.pdf)
    altered = bytearray(report.pdf)
    at = altered.index(b"Laporan") if b"Laporan" in altered else len(altered) // 2
    altered[at] ^= 0x01
    changed.write_bytes(bytes(altered))

    for name, size, upload, verdict in (
            ("asli-ponsel", PHONE, issued, "ASLI: SAMA PERSIS"),
            ("diubah-ponsel", PHONE, changed, "TIDAK SAMA"),
            ("asli-desktop", DESKTOP, issued, "ASLI: SAMA PERSIS"),
            ("diubah-desktop", DESKTOP, changed, "TIDAK SAMA")):
        page = visit(browser, f"{site.base}/v/{report.code}", size)
        page.set_input_files("#berkas", str(upload))
        page.click("button:has-text('Periksa berkas')")
        page.wait_for_selector("#status")
        assert page.inner_text("#status") == verdict
        text = main_text(page)
        if verdict.startswith("ASLI"):
            assert report.number is not None and report.number in text
        else:
            assert hashlib.sha256(upload.read_bytes()).hexdigest() in text
            assert report.code in text  # "bukan dokumen dengan kode ..."
        page.screenshot(path=str(shot_path(f"berkas-{name}")), full_page=True)
        page.close()


def test_a_pdf_checked_from_the_home_page_is_found_by_its_bytes(
        site: Site, browser: Browser, tmp_path: Path) -> None:
    sheet = site.documents["disposisi"]
    held = tmp_path / "disposisi.pdf"
    held.write_bytes(sheet.pdf)
    page = visit(browser, f"{site.base}/")
    page.screenshot(path=str(shot_path("beranda-ponsel")), full_page=True)
    page.set_input_files("#berkas", str(held))
    page.click("button:has-text('Periksa berkas')")
    page.wait_for_selector("#status")
    assert page.inner_text("#status") == "ASLI: SAMA PERSIS"
    assert "Lembar Disposisi" in main_text(page)
    page.close()


def test_a_code_typed_from_paper_in_any_case_finds_the_record(
        site: Site, browser: Browser) -> None:
    sheet = site.documents["disposisi"]
    page = visit(browser, f"{site.base}/")
    page.fill("#kode", " " + sheet.code.lower().replace("-", " ") + " ")
    page.click("button:has-text('Periksa kode')")
    page.wait_for_selector("#status")
    assert page.inner_text("#status") == "TERCATAT"
    assert sheet.number is not None and sheet.number in main_text(page)
    page.close()


def test_a_received_letter_and_a_replaced_report_say_what_they_are(
        site: Site, browser: Browser) -> None:
    received = site.documents["surat_permohonan"]
    page = visit(browser, f"{site.base}/v/{received.code}")
    assert page.inner_text("#status") == "DITERIMA, BUKAN TERBITAN PULIH"
    text = main_text(page)
    assert "Dinas Pendidikan" in text and "Penandatangan" not in text
    page.screenshot(path=str(shot_path("diterima-ponsel")), full_page=True)
    page.close()

    old, new = site.documents["laporan_lama"], site.documents["laporan"]
    page = visit(browser, f"{site.base}/v/{old.code}")
    assert page.inner_text("#status") == "TERCATAT, SUDAH DIGANTI"
    assert new.number is not None
    assert re.search(rf"diganti oleh .*nomor\s+{re.escape(new.number)}", main_text(page))
    page.screenshot(path=str(shot_path("diganti-ponsel")), full_page=True)
    page.close()
