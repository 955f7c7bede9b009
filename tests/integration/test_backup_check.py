"""Step 4 against a real sshd: the catalog of restore points and the check of one."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.demo.lab.sshd import SshServer
from restore.catalog import BackupSource, find_point, list_points
from restore.check import Verdict, check_point
from restore.errors import BackupInvalid, UnsafeValue
from restore.ssh import session
from tests.support.backups import MARIADB_DUMP, gz, tar_gz, write_point

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10.00 WITA


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    root = tmp_path / "srv-backup"
    (root / "simpeg").mkdir(parents=True)
    return root


def _source(root: Path, path: str = "simpeg", layout: str = "points") -> BackupSource:
    return BackupSource(str(root), path, layout)


def verdicts(report: object) -> dict[str, Verdict]:
    return {i.name: i.verdict for i in report.items}  # type: ignore[attr-defined]


def test_points_are_listed_newest_first_and_odd_names_are_skipped(
        backup_server: SshServer, backups: Path) -> None:
    system = backups / "simpeg"
    write_point(system, "20261120-0200", {"simpeg.sql.gz": gz(MARIADB_DUMP.encode())})
    write_point(system, "20261122-0200", {"simpeg.sql.gz": gz(MARIADB_DUMP.encode())},
                manifest={"pegawai": 2})
    write_point(system, "terbaru", {"simpeg.sql.gz": b"x"})
    write_point(system, "20261121-0200", {"bad name;rm.sql": b"x"})
    with session(backup_server.endpoint()) as remote:
        points = list_points(remote, _source(backups))
    assert [p.name for p in points] == ["20261122-0200", "20261120-0200"]
    newest = points[0]
    assert newest.taken_at == datetime(2026, 11, 21, 18, 0, tzinfo=UTC)  # 02.00 WITA
    assert [f.name for f in newest.files] == ["simpeg.sql.gz"]
    assert newest.sidecars == ("SHA256SUMS", "manifest.json")
    assert newest.size == (system / "20261122-0200" / "simpeg.sql.gz").stat().st_size


def test_a_flat_folder_of_cron_dumps_is_read_with_its_pattern(backup_server: SshServer,
                                                             backups: Path) -> None:
    flat = backups / "simpeg"
    (flat / "simpeg_20261121-0200.sql.gz").write_bytes(gz(MARIADB_DUMP.encode()))
    (flat / "simpeg_20261122-0200.sql.gz").write_bytes(gz(MARIADB_DUMP.encode()))
    (flat / "catatan.txt").write_text("bukan backup")
    with session(backup_server.endpoint()) as remote:
        points = list_points(remote, _source(backups, layout="flat"))
        assert [p.name for p in points] == ["simpeg_20261122-0200.sql.gz",
                                            "simpeg_20261121-0200.sql.gz"]
        report = check_point(remote, points[0], "mariadb", NOW)
    assert verdicts(report)["checksum simpeg_20261122-0200.sql.gz"] is Verdict.WARNING
    assert report.verdict is Verdict.WARNING  # no checksum file: never a pass


def test_a_good_point_passes_every_check(backup_server: SshServer, backups: Path) -> None:
    write_point(backups / "simpeg", "20261123-0200",
                {"simpeg.sql.gz": gz(MARIADB_DUMP.encode())}, manifest={"pegawai": 2})
    with session(backup_server.endpoint()) as remote:
        point = find_point(remote, _source(backups), "20261123-0200")
        report = check_point(remote, point, "mariadb", NOW)
    assert report.verdict is Verdict.PASSED, report.items
    assert report.manifest == {"tables": {"pegawai": 2}}
    assert set(verdicts(report)) == {"berkas simpeg.sql.gz", "checksum simpeg.sql.gz",
                                     "format simpeg.sql.gz", "isi simpeg.sql.gz", "manifest",
                                     "umur"}


def test_an_altered_byte_fails_the_checksum(backup_server: SshServer, backups: Path) -> None:
    point_dir = write_point(backups / "simpeg", "20261123-0200",
                            {"simpeg.sql": MARIADB_DUMP.encode()})
    data = bytearray((point_dir / "simpeg.sql").read_bytes())
    data[40] ^= 1
    (point_dir / "simpeg.sql").write_bytes(bytes(data))
    with session(backup_server.endpoint()) as remote:
        report = check_point(remote, find_point(remote, _source(backups), "20261123-0200"),
                             "mariadb", NOW)
    assert report.verdict is Verdict.FAILED
    item = next(i for i in report.items if i.name == "checksum simpeg.sql")
    assert item.verdict is Verdict.FAILED and "TIDAK COCOK" in item.detail


@pytest.mark.parametrize(("name", "data", "words"), [
    ("simpeg.sql", MARIADB_DUMP.encode()[:-45], "terpotong"),
    ("simpeg.sql.gz", gz(MARIADB_DUMP.encode())[:-12], "gzip rusak"),
    ("simpeg.sql", b"-- PostgreSQL database dump complete\n", "bukan mariadb"),
    ("app.tar.gz", b"\x1f\x8b\x08\x00 bukan arsip", "tar rusak"),
    ("db.dump", b"bukan dump", "PGDMP"),
    ("kosong.sql", b"", "kosong"),
])
def test_a_broken_dump_or_archive_fails_the_format_test(backup_server: SshServer, backups: Path,
                                                       name: str, data: bytes,
                                                       words: str) -> None:
    write_point(backups / "simpeg", "20261123-0200", {name: data})
    with session(backup_server.endpoint()) as remote:
        report = check_point(remote, find_point(remote, _source(backups), "20261123-0200"),
                             "mariadb", NOW)
    assert report.verdict is Verdict.FAILED
    failed = " ".join(i.detail for i in report.items if i.verdict is Verdict.FAILED)
    assert words.lower() in failed.lower()


def test_a_tar_archive_and_a_custom_format_dump_are_read_through(
        backup_server: SshServer, backups: Path, pg_server: str, tmp_path: Path) -> None:
    from bot.demo.lab.postgres import create_database

    url = create_database(pg_server, "cek_dump").replace("postgresql+psycopg", "postgresql")
    dump = tmp_path / "db.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), url], check=True)
    write_point(backups / "simpeg", "20261123-0200",
                {"db.dump": dump.read_bytes(), "app.tar.gz": tar_gz({"index.php": b"<?php"})})
    with session(backup_server.endpoint()) as remote:
        report = check_point(remote, find_point(remote, _source(backups), "20261123-0200"),
                             "postgresql", NOW)
    assert report.verdict is Verdict.PASSED, report.items
    details = {i.name: i.detail for i in report.items}
    assert "pg_restore --list" in details["format db.dump"]
    assert "tar" in details["format app.tar.gz"]


def test_a_truncated_custom_dump_with_matching_checksums_fails_the_check(
        backup_server: SshServer, backups: Path, pg_server: str, tmp_path: Path) -> None:
    import psycopg

    from bot.demo.lab.postgres import create_database

    url = create_database(pg_server, "cek_potong").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE arsip (id int, isi text); INSERT INTO arsip SELECT g, "
                     "md5(g::text) FROM generate_series(1, 20000) g")
    whole = subprocess.run(["pg_dump", "-Fc", "-Z0", url], check=True,
                           capture_output=True).stdout
    # As a broken or hostile backup job would leave it: cut short, its checksum re-summed.
    write_point(backups / "simpeg", "20261123-0100", {"db.dump": whole})
    write_point(backups / "simpeg", "20261123-0200", {"db.dump": whole[:len(whole) * 2 // 3]})
    with session(backup_server.endpoint()) as remote:
        good, cut = (check_point(remote, find_point(remote, _source(backups), point),
                                 "postgresql", NOW) for point in ("20261123-0100",
                                                                  "20261123-0200"))
    assert good.verdict is Verdict.PASSED, good.items
    assert verdicts(cut)["checksum db.dump"] is Verdict.PASSED  # the sums agree...
    assert verdicts(cut)["isi db.dump"] is Verdict.FAILED  # ...but the dump is not whole
    assert cut.verdict is Verdict.FAILED
    assert "rusak atau terpotong" in {i.name: i.detail for i in cut.items}["isi db.dump"]


def test_the_age_is_judged_against_the_requested_point(backup_server: SshServer,
                                                       backups: Path) -> None:
    write_point(backups / "simpeg", "20261120-0200", {"simpeg.sql": MARIADB_DUMP.encode()})
    with session(backup_server.endpoint()) as remote:
        point = find_point(remote, _source(backups), "20261120-0200")
        before = check_point(remote, point, "mariadb", NOW,
                             requested=datetime(2026, 11, 19, 16, 0, tzinfo=UTC))
        stale = check_point(remote, point, "mariadb", NOW)
        older = check_point(remote, point, "mariadb", NOW, newest=False)
    assert "SESUDAH" in next(i.detail for i in before.items if i.name == "umur")
    assert "berumur" in next(i.detail for i in stale.items if i.name == "umur")
    assert "Bukan backup terbaru" in next(i.detail for i in older.items if i.name == "umur")


@pytest.mark.parametrize("name", ["../simpeg", "20261123-0200/../../etc", "$(reboot)",
                                  "a;b", "x\ny", "'q'", "ü" * 300])
def test_hostile_point_names_are_refused_before_any_command(backup_server: SshServer,
                                                            backups: Path, name: str) -> None:
    with session(backup_server.endpoint()) as remote, pytest.raises((UnsafeValue,
                                                                      BackupInvalid)):
        find_point(remote, _source(backups), name)


def test_a_system_path_outside_the_backup_root_is_refused(backups: Path) -> None:
    with pytest.raises(UnsafeValue):
        _ = _source(backups, path="../etc").directory
