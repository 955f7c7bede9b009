"""Realistic example data, so that staff can look at every document without a request
(`pulih letters render KIND --sample`). Names and numbers are invented."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from letters.facts import BackupSource, Case, Check, Hop, Issue, Official, Party, Phase

KADIS = Official("Ir. H. Ahmad Rizali, M.Si.", "Kepala Dinas Komunikasi dan Informatika",
                 "Pembina Utama Muda (IV/c)", "197204151998031007")
KABID = Official("Siti Rahmawati, S.Kom., M.T.",
                 "Kepala Bidang Persandian dan Keamanan Informasi", "Pembina (IV/a)",
                 "198003122005012004")
JFT = Official("Muhammad Fajar Ramadhan, S.T.", "Pranata Komputer Ahli Muda",
               "Penata Tingkat I (III/d)", "198807202011011002")
REQUESTER = Official("Dra. Nurul Hidayah", "Kepala Dinas Pendidikan dan Kebudayaan",
                     "Pembina Utama Muda (IV/c)", "197005101994032006")

_T0 = datetime(2025, 6, 10, 1, 12, tzinfo=UTC)  # 10 Juni 2025 09.12 WITA


def _at(minutes: float) -> datetime:
    return _T0 + timedelta(minutes=minutes)


def sample_case() -> Case:
    return Case(
        ticket="PLH-2025-00041",
        agency=Party("Dinas Pendidikan dan Kebudayaan",
                     ("Jalan Pesut No. 10", "Tenggarong, Kalimantan Timur 75513"),
                     code="DISDIKBUD"),
        system_name="SIMPEG-DIK", system_code="simpeg-dik", host="simpeg-dik.kukarkab.go.id",
        recipe="Basis data MariaDB", database="simpeg", app_dir="",
        scope="Database",
        recovery_point=datetime(2025, 6, 9, 15, 0, tzinfo=UTC),
        reason=("Pada 10 Juni 2025 pukul 07.40 WITA pembaruan aplikasi gagal di tengah migrasi "
                "skema sehingga tabel pegawai dan riwayat jabatan rusak. Aplikasi tidak dapat "
                "dibuka oleh operator sekolah."),
        impact="Layanan kepegawaian 1.200 guru terhenti; usulan kenaikan pangkat tertunda.",
        contact="Rudi Hartono, operator SIMPEG (0812-5555-0141)",
        requester=REQUESTER, letter_number="B-123/DISDIKBUD/000.6/06/2025",
        letter_date=date(2025, 6, 10), received_at=_T0,
        hops=(
            Hop("Kepala Dinas", f"{KABID.jabatan}", "Proses lebih lanjut", "Mohon segera.",
                _at(18), _at(18 + 60), KADIS.name),
            Hop(KABID.jabatan, "Tim Teknis (JFT)", "Laksanakan restore, laporkan hasil",
                "Gunakan backup harian terakhir sebelum pembaruan.", _at(53), _at(53 + 60),
                KABID.name),
        ),
        backup=BackupSource("2025-06-09T2300", datetime(2025, 6, 9, 15, 0, tzinfo=UTC),
                            734_003_200,
                            "9f2c1e0b7d4a3c5e8f6a1b2d3c4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
                            "backup-01", _at(75), "lulus"),
        phases=(
            Phase("Pemeriksaan awal", _at(80), _at(81), "Target terjangkau, ruang disk cukup",
                  JFT.name),
            Phase("Salin backup", _at(81), _at(88), "700,0 MiB, checksum cocok", JFT.name),
            Phase("Impor ke basis data sementara", _at(88), _at(101), "Impor selesai",
                  JFT.name),
            Phase("Verifikasi", _at(101), _at(102), "42 tabel, jumlah baris sesuai", JFT.name),
            Phase("Penggantian data aktif", _at(102), _at(102.5), "Data lama disimpan untuk "
                  "rollback", JFT.name),
            Phase("Pemeriksaan akhir", _at(102.5), _at(103), "HTTP 200 dari aplikasi",
                  JFT.name),
        ),
        checks=(
            Check("Integritas backup", "SHA-256 dibandingkan dengan SHA256SUMS", "Sesuai"),
            Check("Jumlah baris tabel kunci", "Hitung baris per tabel", "Sesuai (42 tabel)"),
            Check("Layanan web aktif", "HTTP GET halaman aplikasi", "OK (HTTP 200)"),
        ),
        status="Berhasil", restore_started=_at(80), restore_finished=_at(103),
        mutu_baku_restore=timedelta(minutes=60), problems="",
        executor=JFT, ratifier=KABID, report_number="12/Diskominfo/000.6/06/2025",
        report_date=_at(130),
    )


def sample_issue(kind: str) -> Issue:
    case = sample_case()
    return {
        "surat_permohonan": Issue(case.letter_number, _at(-30), "Tenggarong", REQUESTER),
        "disposisi": Issue("41/Diskominfo/000.6/06/2025", _at(60), "Tenggarong", KABID),
        "laporan": Issue("12/Diskominfo/000.6/06/2025", _at(130), "Tenggarong", JFT),
        "surat_pemberitahuan": Issue("B-452/Diskominfo/000.6/06/2025", _at(160), "Tenggarong",
                                     KADIS),
    }[kind]
