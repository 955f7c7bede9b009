"""The four documents as a reader sees them: every required field in the text poppler
extracts, Indonesian dates and WITA times, F4 pages, and hostile input printed literally."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from letters.facts import Case, Hop, Official, Phase
from letters.fonts import FontFiles, bundled_fonts, static_instance
from letters.kinds import KINDS
from letters.page import PageSetup
from letters.samples import sample_case
from tests.support.documents import CODE, render
from tests.support.pdf import (
    body_text,
    contains,
    keep_png_pages,
    page_sizes_mm,
    page_top,
    pdf_text,
    squash,
)

REQUIRED = {
    "surat_permohonan": [
        "PEMERINTAH KABUPATEN KUTAI KARTANEGARA", "DINAS PENDIDIKAN DAN KEBUDAYAAN",
        "Nomor", "B-123/DISDIKBUD/000.6/06/2025", "Sifat", "Segera", "Lampiran", "Hal",
        "Permohonan Restore VPS/VM Database dan Aplikasi SIMPEG-DIK",
        "Tenggarong, 10 Juni 2025",
        "Yth. Kepala Dinas Komunikasi dan Informatika Kabupaten Kutai Kartanegara",
        "di Tenggarong", "PLH-2025-00041", "simpeg-dik.kukarkab.go.id", "Basis data",
        "Cakupan restore", "Titik pemulihan diminta", "9 Juni 2025 23.00 WITA",
        "pembaruan aplikasi gagal di tengah migrasi", "Layanan kepegawaian 1.200 guru",
        "Rudi Hartono, operator SIMPEG (0812-5555-0141)", "Demikian permohonan ini",
        "Kepala Dinas Pendidikan dan Kebudayaan,", "Dra. Nurul Hidayah",
        "Pembina Utama Muda (IV/c)", "NIP. 197005101994032006", "Tembusan:", "Arsip.",
    ],
    "disposisi": [
        "DINAS KOMUNIKASI DAN INFORMATIKA", "LEMBAR DISPOSISI",
        "Nomor: 41/Diskominfo/000.6/06/2025", "Surat dari", "Dinas Pendidikan dan Kebudayaan",
        "Nomor surat", "B-123/DISDIKBUD/000.6/06/2025", "Tanggal surat", "10 Juni 2025",
        "Diterima tanggal", "10 Juni 2025 09.12 WITA", "Nomor agenda", "PLH-2025-00041",
        "Sifat", "Sangat Segera", "Rahasia", "Biasa", "Isi ringkas:", "Dari", "Kepada",
        "Instruksi/Catatan", "Tanggal", "Batas waktu", "Paraf", "Kepala Dinas",
        "Proses lebih lanjut: Mohon segera.", "10 Juni 2025 09.30 WITA",
        "10 Juni 2025 10.30 WITA", "Paraf elektronik Ir. H. Ahmad Rizali, M.Si. 09.30",
        "Tim Teknis (JFT)", "Laksanakan restore, laporkan hasil",
        "Paraf elektronik Siti Rahmawati, S.Kom., M.T. 10.05",
        "Mohon tidak memisahkan lembar disposisi ini dari suratnya.",
    ],
    "laporan": [
        "LAPORAN RESTORE VPS/VM DATABASE DAN APLIKASI", "Nomor: 12/Diskominfo/000.6/06/2025",
        "A. PENDAHULUAN", "Umum.", "Maksud dan Tujuan.", "Ruang Lingkup.", "Dasar.",
        "Standar Operasional Prosedur Restore VPS/VM Database dan Aplikasi Server",
        "B-123/DISDIKBUD/000.6/06/2025 tanggal 10 Juni 2025",
        "B. KEGIATAN YANG DILAKSANAKAN", "Identitas sistem", "OPD/PSE",
        "SIMPEG-DIK (simpeg-dik)", "simpeg-dik.kukarkab.go.id", "Basis data MariaDB", "simpeg",
        "Sumber backup", "backup-01", "2025-06-09T2300", "9 Juni 2025 23.00 WITA", "700 MiB",
        "9f2c1e0b7d4a3c5e8f6a1b2d3c4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
        "lulus (10 Juni 2025 10.27 WITA)", "Tahapan pelaksanaan", "Mulai", "Selesai",
        "Salin backup", "10.33", "10.40", "700,0 MiB, checksum cocok",
        "C. HASIL YANG DICAPAI", "Pemeriksaan", "Metode", "Hasil", "Integritas backup",
        "Layanan web aktif", "OK (HTTP 200)", "Status", "Berhasil", "Titik pemulihan aktual",
        "Mulai restore", "10 Juni 2025 10.32 WITA", "Selesai restore",
        "10 Juni 2025 10.55 WITA", "Durasi pemulihan", "23 menit (Mutu Baku 1 jam)",
        "Kendala", "D. SIMPULAN DAN SARAN", "E. PENUTUP", "Tenggarong, 10 Juni 2025",
        "Disahkan oleh:", "Kepala Bidang Persandian dan Keamanan Informasi,",
        "Siti Rahmawati, S.Kom., M.T.", "NIP. 198003122005012004", "Yang membuat laporan,",
        "Pranata Komputer Ahli Muda,", "Muhammad Fajar Ramadhan, S.T.",
        "Penata Tingkat I (III/d)", "NIP. 198807202011011002",
    ],
    "surat_pemberitahuan": [
        "DINAS KOMUNIKASI DAN INFORMATIKA", "Nomor", "B-452/Diskominfo/000.6/06/2025",
        "Tenggarong, 10 Juni 2025", "Sifat", "Biasa", "Lampiran", "1 (satu) berkas", "Hal",
        "Pemberitahuan Hasil Restore VPS/VM Database dan Aplikasi",
        "Yth. Kepala Dinas Pendidikan dan Kebudayaan", "di Tenggarong",
        "Menindaklanjuti surat Saudara Nomor B-123/DISDIKBUD/000.6/06/2025 tanggal 10 Juni 2025",
        "dilaksanakan pada 10 Juni 2025 10.55 WITA dengan hasil Berhasil",
        "titik pemulihan 9 Juni 2025 23.00 WITA", "sebagaimana terlampir",
        "Kepala Dinas Komunikasi dan Informatika,", "Ir. H. Ahmad Rizali, M.Si.",
        "Pembina Utama Muda (IV/c)", "NIP. 197204151998031007", "Tembusan:",
        "1. Bupati Kutai Kartanegara (sebagai laporan);", "2. Arsip.",
    ],
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_document_carries_every_required_field_on_f4(kind: str, tmp_path: Path) -> None:
    pdf = render(kind)
    text = pdf_text(pdf, tmp_path)
    missing = [field for field in REQUIRED[kind] if not contains(text, field)]
    assert missing == []
    assert f"Kode verifikasi: {CODE}" in text
    sizes = page_sizes_mm(pdf, tmp_path)
    assert sizes and all(size == (215.0, 330.0) for size in sizes)


def test_a4_and_margins_are_settings(tmp_path: Path) -> None:
    pdf = render("surat_pemberitahuan", setup=PageSetup(paper="A4", margins=(25, 25, 25, 40)))
    assert page_sizes_mm(pdf, tmp_path) == [(210.0, 297.0)]
    layout = pdf_text(pdf, tmp_path, layout=True)
    assert "B-452/Diskominfo/000.6/06/2025" in layout


def test_the_report_has_one_anchor_per_signer_and_bookmarks(tmp_path: Path) -> None:
    pdf = render("laporan")
    text = pdf_text(pdf, tmp_path)
    assert text.count("$") == 1 and text.count("#") == 1  # Kepala Bidang, then the author
    assert b"/Outlines" in pdf  # sections A-E are bookmarks


def test_later_pages_are_numbered_and_the_first_is_not(tmp_path: Path) -> None:
    pdf = render("laporan")
    assert PAGE_TWO.fullmatch(page_top(pdf, tmp_path, 2))
    assert "PEMERINTAH" in page_top(pdf, tmp_path, 1, 30)  # page 1: the letterhead instead
    assert "- 1 -" not in page_top(pdf, tmp_path, 1, 30)


PAGE_TWO = re.compile(r"-\s*2\s*-")
HOSTILE_BITS = ["<b>tebal</b>", "**bold**", "{{ x }}", "{% if %}", "100 %", "&amp;",
                "</p><kop/>", "__garis__"]
LONG_WORD = "Pemulihan" + "Ulang" * 60  # 309 characters, no space to break at
HEBREW = "שלום עולם"
ARABIC = "مرحبا بالعالم"
COMBINING = "Nu\u0308r Se\u0301lin Kr\u030cma"


def hostile_case() -> Case:
    case = sample_case()
    text = " ".join(HOSTILE_BITS)
    reason = (f"{text} {LONG_WORD} " + "kata biasa yang panjang sekali " * 200)[:5000]
    assert len(reason) == 5000
    odd = Official(f"{COMBINING} {HEBREW}", f"Jabatan {text}", "Penata (III/c)",
                   "198807202011011002")
    hops = (*case.hops, Hop(f"Kepala {text}", f"Tim {ARABIC}", f"Instruksi {text}",
                            reason, case.hops[-1].at, None, odd.name))
    return dataclasses.replace(
        case, reason=reason, impact=f"{ARABIC} {HEBREW} {text}", contact=f"{text} {COMBINING}",
        system_name=f"SIM {text} {LONG_WORD}", requester=odd, executor=odd, hops=hops,
        phases=(*case.phases, Phase(f"Tahap {text}", None, None, reason[:400], odd.name)),
        problems=reason)


def _has_rtl(flat: str, word: str) -> bool:
    """Right-to-left words may come out in visual order; either order is the word."""
    target = squash(word)
    return target in flat or target[::-1] in flat


@pytest.mark.parametrize("kind", list(KINDS))
def test_hostile_input_prints_literally_wraps_and_flows(kind: str, tmp_path: Path) -> None:
    case = hostile_case()
    pdf = render(kind, case, signer=case.executor)
    text = unicodedata.normalize("NFC", pdf_text(pdf, tmp_path))
    flat = squash(text)
    for bit in HOSTILE_BITS:
        assert squash(bit) in flat, bit
    assert squash(LONG_WORD) in flat
    assert squash(unicodedata.normalize("NFC", COMBINING)) in flat
    assert _has_rtl(flat, "שלום") and _has_rtl(flat, "עולם")
    reason = case.reason
    if kind in ("surat_permohonan", "disposisi", "laporan"):
        # all 5,000 characters, none dropped, across the page breaks
        assert squash(reason) in squash(body_text(text))
        pages = text.split("\f")
        assert len([p for p in pages if p.strip()]) >= 2
        assert PAGE_TWO.fullmatch(page_top(pdf, tmp_path, 2))
    if kind == "surat_permohonan":
        assert _has_rtl(flat, "مرحبا") and _has_rtl(flat, "بالعالم")
    assert all(size == (215.0, 330.0) for size in page_sizes_mm(pdf, tmp_path))


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_document_renders_to_png_pages_kept_for_a_person(kind: str) -> None:
    pages = keep_png_pages(render(kind), kind)
    case = hostile_case()
    hostile = keep_png_pages(render(kind, case, signer=case.executor), f"{kind}-hostile")
    for png in (*pages, *hostile):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert abs(height / width - 330 / 215) < 0.01  # an F4 page
    assert len(hostile) >= len(pages)


def test_the_letterhead_logo_is_printed_on_the_first_page_only(tmp_path: Path) -> None:
    logo = tmp_path / "lambang.png"
    Image.new("RGB", (120, 140), (200, 30, 30)).save(logo)
    pdf = render("laporan", logo=logo)
    source = tmp_path / "logo.pdf"
    source.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(source)], capture_output=True,
                             text=True, check=True).stdout.splitlines()[2:]
    assert [line.split()[0] for line in listing] == ["1"]  # one image, on page 1
    assert len(page_sizes_mm(pdf, tmp_path)) == 2


def test_a_kepala_bidang_signs_the_notification_on_behalf_of_the_kepala_dinas(
        tmp_path: Path) -> None:
    kabid = Official("Siti Rahmawati, S.Kom., M.T.", "Kepala Bidang Persandian",
                     "Pembina (IV/a)", "198003122005012004",
                     on_behalf=("a.n. Kepala Dinas Komunikasi dan Informatika",))
    flat = squash(pdf_text(render("surat_pemberitahuan", signer=kabid), tmp_path))
    block = squash("a.n. Kepala Dinas Komunikasi dan Informatika Kepala Bidang Persandian, "
                   "# Siti Rahmawati, S.Kom., M.T. Pembina (IV/a) NIP. 198003122005012004")
    assert block in flat  # in this order; the signing anchor between position and name


def test_the_office_may_set_its_own_static_font_files(tmp_path: Path) -> None:
    regular = static_instance(bundled_fonts().regular, {"wght": 400.0})
    bold = static_instance(bundled_fonts().bold, {"wght": 700.0})
    setup = PageSetup(fonts=FontFiles(regular, bold, regular), font_size=11)
    pdf = render("surat_pemberitahuan", setup=setup)
    assert contains(pdf_text(pdf, tmp_path), "B-452/Diskominfo/000.6/06/2025")
    source = tmp_path / "font.pdf"
    source.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(source)], capture_output=True, text=True,
                           check=True).stdout
    assert "Arimo" in fonts and "yes yes yes" in fonts  # embedded, subset, Unicode map
