"""The four documents of the SOP that Pulih issues, by kind (a module of its own so that
naming them loads nothing of the PDF machinery)."""

from __future__ import annotations

KINDS: dict[str, str] = {
    "surat_permohonan": "Surat Permohonan",
    "disposisi": "Lembar Disposisi",
    "laporan": "Laporan Restore VPS/VM Database dan Aplikasi",
    "surat_pemberitahuan": "Surat Pemberitahuan",
}

# Documents of the office that belong to no single request.
OFFICE_KINDS: dict[str, str] = {
    "ringkasan_insiden": "Ringkasan Penanganan Insiden",
    "laporan_uji": "Laporan Uji Pemulihan",
    "laporan_bulanan": "Laporan Bulanan Pelayanan Restore",
}
ALL_KINDS: dict[str, str] = {**KINDS, **OFFICE_KINDS}
