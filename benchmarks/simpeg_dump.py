"""A realistic SIMPEG backup of a chosen size, written straight to the backup server's
folder as a nightly job leaves it: `mariadb-dump` layout (CREATE TABLE, extended INSERTs
of about 1 MB, the completion marker), gzip-compressed, with SHA256SUMS and the
manifest's row counts. Generating the text is much faster than filling a database and
dumping it, and the restore cannot tell the difference."""

from __future__ import annotations

import base64
import gzip
import random
from pathlib import Path

from bot.demo.lab.backup_point import seal_point
from bot.demo.lab.mariadb import MariaDB

DUMP = "simpeg.sql.gz"
_SCHEMA = {
    "pegawai": "CREATE TABLE `pegawai` (`id` int NOT NULL, `nip` char(18) NOT NULL, "
               "`nama` varchar(100) NOT NULL, `jabatan` varchar(120), "
               "`unit_kerja` varchar(150), `alamat` varchar(200), `tanggal_lahir` date, "
               "PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    "riwayat_jabatan": "CREATE TABLE `riwayat_jabatan` (`id` bigint NOT NULL, "
                       "`pegawai_id` int NOT NULL, `jabatan` varchar(120), `tmt` date, "
                       "`sk_nomor` varchar(60), `keterangan` varchar(255), "
                       "PRIMARY KEY (`id`), KEY `pegawai_id` (`pegawai_id`)) "
                       "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
    "berkas": "CREATE TABLE `berkas` (`id` int NOT NULL, `pegawai_id` int NOT NULL, "
              "`nama_berkas` varchar(120), `isi_base64` mediumtext, PRIMARY KEY (`id`)) "
              "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
}
_FIRST = ["Andi", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gita", "Hadi", "Indah", "Joko",
          "Kartika", "Lukman", "Maya", "Nur", "Oki", "Putri", "Rahmat", "Sari", "Taufik",
          "Wulan", "Yusuf", "Zainal"]
_LAST = ["Saputra", "Pratama", "Wijaya", "Hidayat", "Lestari", "Kurniawan", "Rahayu",
         "Setiawan", "Nugroho", "Maharani", "Gunawan", "Siregar", "Tandi", "Lembang"]
_JABATAN = ["Analis Kepegawaian", "Pranata Komputer Ahli Muda", "Guru Ahli Pertama",
            "Pengelola Keuangan", "Arsiparis Terampil", "Penyuluh Pertanian",
            "Perawat Ahli Pertama", "Pengadministrasi Umum", "Kepala Seksi"]
_UNIT = ["Dinas Pendidikan dan Kebudayaan", "Dinas Kesehatan", "Kecamatan Tenggarong",
         "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", "Dinas Pertanian",
         "RSUD Aji Muhammad Parikesit", "Kecamatan Loa Kulu", "Dinas Perhubungan"]
_STREET = ["Jalan Pesut", "Jalan Jenderal Sudirman", "Jalan Kartini", "Jalan Mulawarman",
           "Jalan Wolter Monginsidi", "Jalan Danau Semayang", "Jalan Imam Bonjol"]


def write_simpeg_backup(point: Path, size_mb: int, scans_mib: int = 0,
                        seed: int = 20261124) -> dict[str, int]:
    """Write `<point>/simpeg.sql.gz`: at least `size_mb` MB of SQL (before compression) of
    employees and their history, then scanned documents (random, so they barely
    compress, as scans do) until the file holds `scans_mib` MiB more; SHA256SUMS and
    manifest.json. Return the row counts."""
    rng = random.Random(seed)
    point.mkdir(parents=True, exist_ok=True)
    target = size_mb * 1_000_000
    written, employees, history = 0, 0, 0
    with gzip.open(point / DUMP, "wt", encoding="utf-8", compresslevel=3) as out:
        def emit(text: str) -> None:
            nonlocal written
            out.write(text)
            written += len(text)

        emit("-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu\n"
             "-- Host: localhost    Database: simpeg\n"
             "/*!40101 SET NAMES utf8mb4 */;\n")
        for name, ddl in _SCHEMA.items():
            emit(f"DROP TABLE IF EXISTS `{name}`;\n{ddl}\n")
        while written < target:
            rows = []
            for _ in range(2500):
                employees += 1
                rows.append(
                    f"({employees},'{rng.randrange(10**17, 10**18)}',"
                    f"'{rng.choice(_FIRST)} {rng.choice(_LAST)}','{rng.choice(_JABATAN)}',"
                    f"'{rng.choice(_UNIT)}','{rng.choice(_STREET)} No. {rng.randrange(1, 300)},"
                    f" Tenggarong','{rng.randrange(1965, 2000)}-{rng.randrange(1, 13):02d}-"
                    f"{rng.randrange(1, 29):02d}')")
            emit("INSERT INTO `pegawai` VALUES " + ",".join(rows) + ";\n")
            rows = []
            for _ in range(7500):
                history += 1
                rows.append(
                    f"({history},{rng.randrange(1, employees + 1)},'{rng.choice(_JABATAN)}',"
                    f"'{rng.randrange(2005, 2027)}-{rng.randrange(1, 13):02d}-01',"
                    f"'800/{rng.randrange(1, 9999)}/BKPSDM/{rng.randrange(2005, 2027)}',"
                    f"'Mutasi ke {rng.choice(_UNIT)}')")
            emit("INSERT INTO `riwayat_jabatan` VALUES " + ",".join(rows) + ";\n")
        scans, file_size = 0, (point / DUMP).stat
        goal = file_size().st_size + scans_mib * (1 << 20)
        while scans_mib and file_size().st_size < goal:
            rows = []
            for _ in range(8):
                scans += 1
                blob = base64.b64encode(rng.randbytes(192 * 1024)).decode()
                rows.append(f"({scans},{rng.randrange(1, employees + 1)},"
                            f"'sk-{scans}.pdf','{blob}')")
            emit("INSERT INTO `berkas` VALUES " + ",".join(rows) + ";\n")
        emit("-- Dump completed on 2026-11-24  2:00:01\n")
    counts = {"pegawai": employees, "riwayat_jabatan": history, "berkas": scans}
    seal_point(point, [DUMP], counts)
    return counts


def damaged_live(db: MariaDB) -> None:
    """SIMPEG's live database after the failed update: its tables, nearly empty."""
    db.sql("DROP DATABASE IF EXISTS simpeg; CREATE DATABASE simpeg")
    db.sql(";".join(_SCHEMA.values()) + "INSERT INTO pegawai (id, nip, nama) VALUES "
           "(1, '000000000000000000', 'RUSAK');", "simpeg")
